package config

import (
	"os"
	"strings"
	"testing"
)

func TestStateBackend(t *testing.T) {
	const yml = `
state: {backend: postgres, dsn: "postgres://team@db/top"}
profiles:
  prod: {state: {backend: postgres, dsn: "postgres://team@db/prod"}}
  lab: {state: {backend: local}}
  plain: {endpoint: "https://x"}
`
	c, err := Parse("config.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	none := func(string) string { return "" }
	for profile, want := range map[string]string{"prod": "postgres://team@db/prod", "lab": "", "plain": "postgres://team@db/top", "": "postgres://team@db/top", "absent": "postgres://team@db/top"} {
		if got, err := c.StateBackend(profile, none); err != nil || got != want {
			t.Errorf("StateBackend(%q) = %q, %v; want %q", profile, got, err, want)
		}
	}
	env := func(k string) string {
		if k == StateDSNEnv {
			return "postgres://ci@db/env"
		}
		return ""
	}
	if got, _ := c.StateBackend("lab", env); got != "postgres://ci@db/env" {
		t.Errorf("WAASCTL_STATE_DSN does not win: %q", got)
	}
	empty, _ := Parse("c.yaml", nil)
	if got, err := empty.StateBackend("prod", none); got != "" || err != nil {
		t.Errorf("no state block: %q, %v", got, err)
	}
	for _, bad := range []string{
		`state: {backend: postgres}`,
		`state: {backend: mysql, dsn: "x"}`,
		`state: {dsn: "postgres://u:hunter2@db/x"}`,
		`state: {backend: local, dsn: "postgres://u:hunter2@db/x"}`,
	} {
		c, err := Parse("c.yaml", []byte(bad))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.StateBackend("p", none)
		if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// The pins come from the block StateBackend chooses; recording them keeps the rest of the file.
func TestStatePinsAndPinStateRecipients(t *testing.T) {
	path := t.TempDir() + "/config.yaml"
	const yml = `# ops repository
state:
  backend: postgres # the team store
  recipients:
    alice: age1a
profiles:
  lab: {state: {backend: postgres, dsn: "postgres://x", recipients: {lab-ci: age1l}}}
  prod: {endpoint: "https://x"}
`
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := PinStateRecipients(path, map[string]string{"bob": "age1b"}, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if m, where := c.StatePins("prod"); len(m) != 1 || m["bob"] != "age1b" || where != "state.recipients in "+path {
		t.Fatalf("prod's pins = %v (%s)", m, where)
	}
	if m, where := c.StatePins("lab"); len(m) != 1 || m["lab-ci"] != "age1l" || !strings.HasPrefix(where, "profiles.lab.state.recipients in ") {
		t.Fatalf("lab's pins = %v (%s)", m, where)
	}
	for _, keep := range []string{"# ops repository", "backend: postgres # the team store", "lab-ci: age1l"} {
		if !strings.Contains(string(data), keep) {
			t.Errorf("lost %q:\n%s", keep, data)
		}
	}
}
