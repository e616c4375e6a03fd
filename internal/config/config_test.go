package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sample = `profiles:
  prod:
    endpoint: https://api.developer.coinbase.com
    issuer: {type: manual}
    sinks:
      - {type: envfile, path: /etc/waas-proxy/.env, restart: [systemctl, restart, waas-proxy]}
      - {type: exec, command: [vault, kv, put, secret/waas, "-"]}
    policy: {max_age: 90d, grace: 24h}
    quota: {pools: 20, wallets: 10000}
    ledger: {dsn: "postgres://ledger", operations_query: "select mpc_operation_id from ops"}
  sandbox:
    issuer: {type: exec, command: [my-issuer, --json]}
`

func TestParseDesignExample(t *testing.T) {
	c, err := Parse("config.yaml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	prod, ok := c.Profiles["prod"]
	if !ok {
		t.Fatal("profile prod missing")
	}
	if prod.Endpoint != "https://api.developer.coinbase.com" || prod.Issuer.Type != "manual" {
		t.Errorf("endpoint/issuer = %q/%+v", prod.Endpoint, prod.Issuer)
	}
	if len(prod.Sinks) != 2 || prod.Sinks[0].Path != "/etc/waas-proxy/.env" ||
		strings.Join(prod.Sinks[0].Restart, " ") != "systemctl restart waas-proxy" ||
		prod.Sinks[1].Command[4] != "-" {
		t.Errorf("sinks = %+v", prod.Sinks)
	}
	if prod.Policy.MaxAge != "90d" || prod.Policy.Grace != "24h" {
		t.Errorf("policy = %+v", prod.Policy)
	}
	if prod.Quota.Pools != 20 || prod.Quota.Wallets != 10000 {
		t.Errorf("quota = %+v", prod.Quota)
	}
	if prod.Ledger.DSN != "postgres://ledger" || !strings.HasPrefix(prod.Ledger.OperationsQuery, "select") {
		t.Errorf("ledger = %+v", prod.Ledger)
	}
	if got := c.Profiles["sandbox"].Issuer.Command; len(got) != 2 || got[0] != "my-issuer" {
		t.Errorf("sandbox issuer command = %q", got)
	}
}

func TestParseErrorsAreOneLineWithFileAndLine(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{
			name: "syntax",
			yaml: "profiles:\n  prod:\n    endpoint: [unclosed\n",
			want: "/etc/w.yaml:3: ",
		},
		{
			name: "bad indentation",
			yaml: "profiles:\n  prod:\n    endpoint: x\n   issuer: y\n",
			want: "/etc/w.yaml:4: ",
		},
		{
			name: "unknown key",
			yaml: "profiles:\n  prod:\n    policy: {maxage: 90d}\n",
			want: `/etc/w.yaml:3: unknown key "maxage"`,
		},
		{
			name: "wrong type hides the value",
			yaml: "profiles:\n  prod:\n    quota:\n      pools: postgres://u:hunter2@db\n      wallets: lots\n",
			want: "/etc/w.yaml:4: cannot unmarshal !!str into int (and 1 more)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("/etc/w.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.want) {
				t.Errorf("error %q does not start with %q", msg, tt.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("error leaks a value: %q", msg)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing yet\n", "profiles:\n"} {
		c, err := Parse("c.yaml", []byte(in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if len(c.Profiles) != 0 {
			t.Fatalf("Parse(%q) profiles = %v", in, c.Profiles)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	c, err := LoadFile(missing)
	if err != nil || c.Path != missing || c.Profiles != nil {
		t.Fatalf("LoadFile(missing) = %+v, %v; want an empty config", c, err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("profiles:\n  - not a map\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+":2: ") {
		t.Fatalf("LoadFile(bad) error = %v, want it to start with %q", err, bad+":2: ")
	}
}

func TestLoadHonoursWAASCTL_CONFIG(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("profiles: {ci: {endpoint: http://127.0.0.1:1}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WAASCTL_CONFIG", p)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != p || c.Profiles["ci"].Endpoint != "http://127.0.0.1:1" {
		t.Fatalf("Load() = %+v", c)
	}
}

func TestPaths(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("WAASCTL_CONFIG", "")
	t.Setenv("WAASCTL_STATE_DIR", "")

	tests := []struct {
		name                string
		env                 map[string]string
		wantConfig, wantDir string
	}{
		{
			name:       "fallbacks",
			env:        map[string]string{"XDG_CONFIG_HOME": "", "XDG_STATE_HOME": ""},
			wantConfig: filepath.Join(home, ".config", "waasctl", "config.yaml"),
			wantDir:    filepath.Join(home, ".local", "state", "waasctl"),
		},
		{
			name:       "xdg",
			env:        map[string]string{"XDG_CONFIG_HOME": "/x/cfg", "XDG_STATE_HOME": "/x/state"},
			wantConfig: filepath.FromSlash("/x/cfg/waasctl/config.yaml"),
			wantDir:    filepath.FromSlash("/x/state/waasctl"),
		},
		{
			name:       "relative xdg is ignored",
			env:        map[string]string{"XDG_CONFIG_HOME": "cfg", "XDG_STATE_HOME": "state"},
			wantConfig: filepath.Join(home, ".config", "waasctl", "config.yaml"),
			wantDir:    filepath.Join(home, ".local", "state", "waasctl"),
		},
		{
			name:       "overrides",
			env:        map[string]string{"XDG_CONFIG_HOME": "/x/cfg", "WAASCTL_CONFIG": "/etc/w.yaml", "WAASCTL_STATE_DIR": "/var/lib/w"},
			wantConfig: "/etc/w.yaml",
			wantDir:    "/var/lib/w",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if got, err := ConfigFile(); err != nil || got != tt.wantConfig {
				t.Errorf("ConfigFile() = %q, %v; want %q", got, err, tt.wantConfig)
			}
			if got, err := StateDir(); err != nil || got != tt.wantDir {
				t.Errorf("StateDir() = %q, %v; want %q", got, err, tt.wantDir)
			}
		})
	}
}

// FuzzParse checks that no input makes Parse panic and that every error stays on one line and
// names the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("profiles:\n  prod:\n    endpoint: [unclosed\n"))
	f.Add([]byte("profiles: {a: {quota: {pools: x}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("f.yaml", data)
		if err == nil {
			return
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "f.yaml:") || strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("bad error message %q", msg)
		}
	})
}

func TestParseAgeRejectsOverflowAndTheImplausible(t *testing.T) {
	for _, s := range []string{
		"213504d", // used to wrap around to 25m26s
		"106752d", // wraps to a negative duration
		"3651d", "522w", "3650d1h", "87601h",
		"99999999999999999999d", // past int64 before any multiplication
		"9223372036854775807w",
		"2562048h", "3000000000000000000ns1d",
		"1d-1h", "1d+1h", "-1h", "+90d", // a sign in a part: 1d-1h was 23h
	} {
		if d, err := ParseAge(s); err == nil {
			t.Errorf("ParseAge(%q) = %v, want an error", s, d)
		}
	}
	for s, want := range map[string]time.Duration{
		"3650d":  MaxAge,
		"521w":   521 * 7 * 24 * time.Hour,
		"87600h": MaxAge,
		"90d":    90 * 24 * time.Hour,
		"1d12h":  36 * time.Hour,
	} {
		if d, err := ParseAge(s); err != nil || d != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", s, d, err, want)
		}
	}
	if _, err := ParseAge("213504d"); err == nil || err.Error() != `duration "213504d" is longer than the maximum, 3650d (ten years)` {
		t.Errorf("error = %v", err)
	}
}

func TestParseInsecureHTTP(t *testing.T) {
	c, err := Parse("config.yaml", []byte("profiles:\n  lab:\n    endpoint: http://10.0.0.5:8080\n    insecure_http: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Profiles["lab"]; !p.InsecureHTTP || p.Endpoint != "http://10.0.0.5:8080" {
		t.Fatalf("profile %+v", p)
	}
}
