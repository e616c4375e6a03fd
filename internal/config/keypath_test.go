package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseKeyPath(t *testing.T) {
	for in, want := range map[string]string{
		"profiles.prod.endpoint":          "profiles.prod.endpoint",
		"profiles.prod.sinks[0].path":     "profiles.prod.sinks[0].path",
		"profiles.prod.sinks.1.restart":   "profiles.prod.sinks[1].restart",
		"profiles[eu.prod].issuer.type":   "profiles[eu.prod].issuer.type",
		"profiles.prod.sinks[+]":          "profiles.prod.sinks[+]",
		"profiles.prod.issuer.command[0]": "profiles.prod.issuer.command[0]",
	} {
		p, err := ParseKeyPath(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseKeyPath(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"", "profiles.", "profiles..prod", "profiles[0", "profiles[]", "profiles[-1]", "a[0]b", strings.Repeat("a.", 200)} {
		if p, err := ParseKeyPath(bad); err == nil {
			t.Errorf("ParseKeyPath(%q) = %v, want an error", bad, p)
		}
	}
}

// set is config set on a file's text, as the command does it.
func set(t *testing.T, path string, key string, words ...string) error {
	t.Helper()
	p, err := ParseKeyPath(key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ValueNode(p, words)
	if err != nil {
		return err
	}
	return EditFile(path, func(doc *yaml.Node) error { return Set(doc, p, v) })
}

func TestSetBuildsAProfileWithoutAnEditor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waasctl", "config.yaml")
	steps := [][]string{
		{"profiles.prod.endpoint", "https://api.developer.coinbase.com"},
		{"profiles.prod.issuer.type", "exec"},
		{"profiles.prod.issuer.command", "/usr/local/bin/waas-issuer", "--org", "acme"},
		{"profiles.prod.sinks[0].type", "envfile"},
		{"profiles.prod.sinks[0].path", "/etc/proxy.env"},
		{"profiles.prod.sinks[0].restart", "systemctl", "restart", "proxy"},
		{"profiles.prod.sinks[+]", "{type: exec, command: [vault-put, secret/waas]}"},
		{"profiles.prod.policy.max_age", "90d"},
		{"profiles.prod.policy.grace", "24h"},
		{"profiles.prod.quota.pools", "20"},
		{"profiles.prod.ledger.dsn", "postgres://app:pw@db/ledger"},
		{"profiles.prod.insecure_http", "false"},
	}
	for _, s := range steps {
		if err := set(t, path, s[0], s[1:]...); err != nil {
			t.Fatalf("set %v: %v", s, err)
		}
	}
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Profiles["prod"]
	if p.Issuer.Type != "exec" || strings.Join(p.Issuer.Command, " ") != "/usr/local/bin/waas-issuer --org acme" ||
		len(p.Sinks) != 2 || p.Sinks[0].Path != "/etc/proxy.env" || strings.Join(p.Sinks[0].Restart, " ") != "systemctl restart proxy" ||
		p.Sinks[1].Type != "exec" || p.Sinks[1].Command[1] != "secret/waas" ||
		p.Policy.MaxAge != "90d" || p.Policy.Grace != "24h" || p.Quota.Pools != 20 || p.Ledger.DSN != "postgres://app:pw@db/ledger" {
		t.Fatalf("%+v", p)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if errs := Check(mustRead(t, path)); len(errs) != 0 {
		t.Fatalf("Check: %v", errs)
	}
}

func TestSetRefusesWhatWouldNotLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	orig := "# mine\nprofiles:\n  prod:\n    endpoint: https://x.example # prod\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]string{
		{"profiles.prod.polcy.max_age", "90d"},       // unknown key: the loader's error
		{"profiles.prod.quota.pools", "many"},        // not a number
		{"profiles.prod.endpoint.host", "x"},         // a value, not a section
		{"profiles.prod.sinks[3].type", "envfile"},   // past the end of the list
		{"profiles.prod.insecure_http", "sometimes"}, // not a bool
		{"profiles.prod.endpoint", "a", "b"},         // one value
		{"profiles.prod.sinks[+]", "{type: envfile"}, // not YAML
		{"state.backend", "sqlite", "extra"},         // unknown to the schema: one value
	} {
		if err := set(t, path, s[0], s[1:]...); err == nil {
			t.Errorf("set %v: accepted", s)
		}
	}
	if got := string(mustRead(t, path)); got != orig {
		t.Fatalf("a refused set changed the file:\n%s", got)
	}
	err := set(t, path, "profiles.prod.polcy.max_age", "90d")
	if err == nil || !strings.Contains(err.Error(), `unknown key "polcy"`) || !strings.Contains(err.Error(), "not written") {
		t.Fatalf("error %v: want the loader's, and that nothing was written", err)
	}
}

func TestSetKeepsCommentsAndOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	before := mustRead(t, filepath.Join("testdata", "commented.before.yaml"))
	if err := os.WriteFile(path, before, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]string{
		{"profiles.prod.policy.grace", "48h"},
		{"profiles.prod.sinks[1].path", "/srv/b.env"},
		{"profiles.prod.sinks[+]", "{type: exec, command: [vault-put]}"},
		{"profiles.dev.endpoint", "http://127.0.0.1:8080"},
	} {
		if err := set(t, path, s[0], s[1:]...); err != nil {
			t.Fatalf("set %v: %v", s, err)
		}
	}
	p, _ := ParseKeyPath("profiles.prod.quota")
	if err := EditFile(path, func(doc *yaml.Node) error { _, err := Unset(doc, p); return err }); err != nil {
		t.Fatal(err)
	}
	got := mustRead(t, path)
	want := mustRead(t, filepath.Join("testdata", "commented.after.yaml"))
	if string(got) != string(want) {
		t.Fatalf("got:\n%s\nwant (testdata/commented.after.yaml):\n%s", got, want)
	}
}

func TestSettingType(t *testing.T) {
	for key, want := range map[string]string{
		"profiles.x.issuer.command": "[]string", "profiles.x.quota.pools": "int", "profiles.x.sinks[0]": "config.Sink",
		"profiles.x.insecure_http": "bool", "profiles.x.ledger.dsn": "string", "profiles.x": "config.Profile",
	} {
		p, _ := ParseKeyPath(key)
		if typ, ok := SettingType(p); !ok || typ.String() != want {
			t.Errorf("SettingType(%s) = %v, %v; want %s", key, typ, ok, want)
		}
	}
	p, _ := ParseKeyPath("profiles.x.nope")
	if _, ok := SettingType(p); ok {
		t.Error("an unknown key has a type")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A file of comments only (a template's header) keeps them when the first setting is added.
func TestSetKeepsACommentOnlyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("# Settings for ops.\n\n# See docs/configuration.md.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := set(t, path, "profiles.a.endpoint", "https://x.example"); err != nil {
		t.Fatal(err)
	}
	want := "# Settings for ops.\n\n# See docs/configuration.md.\n\nprofiles:\n  a:\n    endpoint: https://x.example\n"
	if got := string(mustRead(t, path)); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}
