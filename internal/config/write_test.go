package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestSetProfileEndpointKeepsTheRest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "waasctl")
	path := filepath.Join(dir, "config.yaml")
	if err := SetProfileEndpoint(path, "dev", "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes %v %v", fi.Mode(), di.Mode())
	}
	orig := "# my settings\nprofiles:\n  prod:\n    endpoint: https://api.developer.coinbase.com # production\n    quota: {pools: 20, wallets: 10000}\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SetProfileEndpoint(path, "dev", "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	got := string(data)
	for _, want := range []string{"# my settings", "# production", "wallets: 10000", "dev:\n    endpoint: http://127.0.0.1:9"} {
		if !strings.Contains(got, want) {
			t.Errorf("lost %q:\n%s", want, got)
		}
	}
	cfg, err := LoadFile(path)
	if err != nil || cfg.Profiles["dev"].Endpoint != "http://127.0.0.1:9" || cfg.Profiles["prod"].Quota.Wallets != 10000 {
		t.Fatalf("%+v %v", cfg, err)
	}
	// A file we cannot parse is never rewritten.
	if err := os.WriteFile(path, []byte("profiles: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SetProfileEndpoint(path, "dev", "x"); err == nil {
		t.Fatal("rewrote a broken config")
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "24h": 24 * time.Hour, "1d12h": 36 * time.Hour, "2w": 14 * 24 * time.Hour, "30m": 30 * time.Minute} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "90", "ninety days", "0d"} {
		if _, err := ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) accepted", bad)
		}
	}
}

// TestConcurrentEditsAreAllKept: edits made at once (two shells, a script's loop of `config set`)
// each land; none is undone by another that read the file before it was written.
func TestConcurrentEditsAreAllKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- SetProfileEndpoint(path, fmt.Sprintf("p%d", i), fmt.Sprintf("https://p%d.example", i))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Profiles) != n {
		t.Fatalf("%d of %d profiles kept: concurrent edits undid each other", len(cfg.Profiles), n)
	}
}

// TestReadDocumentRefusesAnAliasBomb: 400 bytes of nested aliases (a "billion laughs") are
// refused when read, instead of expanding without end in whatever walks the tree (config view
// and get used gigabytes until killed).
func TestReadDocumentRefusesAnAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := ReadDocument(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "excessive aliasing") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("ReadDocument of an alias bomb: %v", err)
	}
	// An ordinary anchor and alias still reads.
	if err := os.WriteFile(path, []byte("profiles:\n  a: &p {endpoint: https://x.example}\n  b: *p\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadDocument(t.Context(), path); err != nil {
		t.Fatal(err)
	}
}

// TestSetFileRefusesAValueNoCommandCanUse: config set refuses a value every command would then
// refuse (config validate's checks), leaving the file as it was, while a setup made one key at a
// time may pass through states that are not whole yet (an exec issuer before its command).
func TestSetFileRefusesAValueNoCommandCanUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	set := func(key, value string) error {
		k, err := ParseKeyPath(key)
		if err != nil {
			t.Fatal(err)
		}
		return SetFile(path, k, func(doc *yaml.Node) error {
			return Set(doc, k, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
		})
	}
	if err := set("profiles.prod.issuer.type", "exec"); err != nil {
		t.Fatalf("an exec issuer before its command: %v", err)
	}
	before, _ := os.ReadFile(path)
	for key, value := range map[string]string{
		"profiles.prod.policy.grace": "forever",
		"profiles.prod.issuer.type":  "bogus",
		"profiles.prod.endpoint":     "ftp://x",
		"profiles.a/b.endpoint":      "https://x.example",
	} {
		err := set(key, value)
		if err == nil || !strings.Contains(err.Error(), "not written") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%s: %v", key, value, err)
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Fatalf("%s=%s changed the file", key, value)
		}
	}
}

// TestAConfigThatIsNotAFileIsRefused: a named pipe would block every command until a writer came
// (Ctrl-C was the only way out), a device would never end: both are refused in one line.
func TestAConfigThatIsNotAFileIsRefused(t *testing.T) {
	if _, err := os.Stat(os.DevNull); err != nil || os.DevNull != "/dev/null" {
		t.Skip("no /dev/null here") // Windows: NUL is no file to stat
	}
	_, err := LoadFile(os.DevNull)
	if err == nil || !strings.Contains(err.Error(), "a device, not a file") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("LoadFile(%s): %v", os.DevNull, err)
	}
	if _, _, err := ReadDocument(t.Context(), t.TempDir()); err == nil || !strings.Contains(err.Error(), "a folder, not a file") {
		t.Fatalf("ReadDocument of a folder: %v", err)
	}
}
