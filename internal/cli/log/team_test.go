package log

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials/storetest"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/team/teamtest"
	"github.com/waasctl/waasctl/internal/testctx"
)

// host is one simulated team host: its own state folder, its own host name and age identity.
type host struct {
	name, state string
	store       *team.Store
	recipient   string
	secret      string // the identity's private half, for the canary
}

func newHost(t *testing.T, dsn, name string) *host {
	t.Helper()
	s, err := team.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.Host = name
	id, secret := teamtest.NewIdentity(t)
	return &host{name: name, state: filepath.Join(t.TempDir(), name), store: s, recipient: id.Recipient(), secret: secret}
}

// run runs `waasctl log ARGS` as h would (its state folder, the team DSN in
// WAASCTL_STATE_DSN), returning stdout, stderr and the error.
func (h *host) run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	t.Setenv("WAASCTL_STATE_DIR", h.state)
	ios, _, stdout, stderr := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios}
	var rest []string
	for i := 0; i < len(args); i++ { // -o is the root command's
		if args[i] == "-o" {
			f.Output = cmdutil.OutputFormat(args[i+1])
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	cmd := NewCmdLog(f)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true // as the root command does
	cmd.SetArgs(rest)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(testctx.New(t))
	return stdout.String(), stderr.String(), err
}

// Two hosts append to the team store's audit log; `log show` and `log verify` on either host
// read the same table, naming each entry's host and identity. An edited row fails verify; a
// cut-off end is caught with --anchor, and only with it. A local file log is never mixed in.
func TestTeamLogFromTwoHosts(t *testing.T) {
	dsn := teamtest.NewDatabase(t)
	a0, err := team.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a0.Close()
	if _, _, err := a0.Migrate(t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WAASCTL_STATE_DSN", dsn)
	a, b := newHost(t, dsn, "host-a"), newHost(t, dsn, "host-b")
	key := storetest.Key(t, 0, "k")
	for i, h := range []*host{a, b, a, b, a} {
		e := auditlog.Entry{Command: "keys rotate", Profile: "prod", Action: "rotate.step", Outcome: auditlog.OutcomeOK,
			KeyNames: []string{key.Name}, Fingerprints: []string{"SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg"}}
		if i == 1 {
			e.Profile = "staging"
		}
		if _, err := h.store.AppendEntry(t.Context(), h.recipient, e, nil); err != nil {
			t.Fatal(err)
		}
	}
	var outputs []string
	for _, h := range []*host{a, b} {
		out, errOut, err := h.run(t, "show", "-o", "json")
		if err != nil {
			t.Fatalf("%s: show: %v (%s)", h.name, err, errOut)
		}
		outputs = append(outputs, out, errOut)
		var es []auditlog.Entry
		if err := json.Unmarshal([]byte(out), &es); err != nil {
			t.Fatalf("%s: %v in %s", h.name, err, out)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Host+"="+e.Identity)
		}
		want := []string{a.name + "=" + a.recipient, b.name + "=" + b.recipient, a.name + "=" + a.recipient, b.name + "=" + b.recipient, a.name + "=" + a.recipient}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("%s: log show -o json: hosts=identities\n%v\nwant\n%v", h.name, got, want)
		}
		if !strings.Contains(out, `"host":"host-b"`) {
			t.Fatalf("%s: no host field in %s", h.name, out)
		}
		out, errOut, err = h.run(t, "show", "--for-profile", "staging", "-o", "jsonl")
		if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"host":"host-b"`) {
			t.Fatalf("%s: show --for-profile staging: %v, %q %q", h.name, err, out, errOut)
		}
		out, errOut, err = h.run(t, "verify")
		if err != nil || !strings.HasPrefix(out, "team audit log OK: 5 entries (postgres database ") || !strings.Contains(out, "\nhead: 5:") {
			t.Fatalf("%s: verify: %v, %q", h.name, err, out)
		}
		if !strings.Contains(errOut, "found only with --anchor") {
			t.Fatalf("%s: verify without an anchor does not recommend one: %q", h.name, errOut)
		}
		outputs = append(outputs, out, errOut)
	}

	// The head B printed is an anchor for later.
	out, _, _ := b.run(t, "verify")
	anchor := strings.TrimPrefix(strings.TrimSpace(strings.Split(out, "\n")[1]), "head: ")
	if out, errOut, err := a.run(t, "verify", "--anchor", anchor); err != nil || !strings.Contains(out, "5 entries, anchor matches") || strings.Contains(errOut, "--anchor") {
		t.Fatalf("verify --anchor %s: %v, %q, %q", anchor, err, out, errOut)
	}

	// A file log on host A: the team log is still what is shown, and a note says so; --local
	// reads the file.
	l, err := auditlog.Open(filepath.Join(a.state, "audit"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(auditlog.Entry{Command: "auth add", Action: "add", Outcome: "ok", Profile: "lab", Host: "host-a"}); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := a.run(t, "show", "-o", "jsonl")
	if err != nil || strings.Count(out, "\n") != 5 || strings.Contains(out, `"lab"`) ||
		!strings.Contains(errOut, "note: showing the team store's audit log (postgres database ") || !strings.Contains(errOut, "'waasctl log show --local'") {
		t.Fatalf("show with a local file too: %v\n%s\n%s", err, out, errOut)
	}
	out, _, err = a.run(t, "show", "--local", "-o", "jsonl")
	if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"lab"`) {
		t.Fatalf("show --local: %v, %q", err, out)
	}
	if out, errOut, err := a.run(t, "verify", "--local"); err != nil || out != "audit log OK: 1 entries, head matches\n"+strings.Split(out, "\n")[1]+"\n" {
		t.Fatalf("verify --local: %v, %q %q", err, out, errOut)
	}
	if _, errOut, _ := b.run(t, "show"); strings.Contains(errOut, "note:") {
		t.Fatalf("host B has no file log, yet: %q", errOut)
	}

	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// A row edited in the middle: verify fails on both hosts, naming it.
	if _, err := conn.Exec(t.Context(), `UPDATE waasctl.audit_log SET line = replace(line, '"staging"', '"stagin9"') WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*host{a, b} {
		out, _, err := h.run(t, "verify")
		var ee *cmdutil.ExitError
		if !errors.As(err, &ee) || ee.Code != cmdutil.ExitFailure || !strings.HasPrefix(err.Error(), "team audit log TAMPERED at line 2: broken chain") || out != "" {
			t.Fatalf("%s: verify of an edited row: %v, %q", h.name, err, out)
		}
	}
	if _, err := conn.Exec(t.Context(), `UPDATE waasctl.audit_log SET line = replace(line, '"stagin9"', '"staging"') WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.run(t, "verify"); err != nil {
		t.Fatalf("verify once the row is restored: %v", err)
	}
	// The last two rows deleted: the table alone still chains (no head file to compare with),
	// so only the anchor catches it.
	if _, err := conn.Exec(t.Context(), `DELETE FROM waasctl.audit_log WHERE seq >= 4`); err != nil {
		t.Fatal(err)
	}
	if out, _, err := b.run(t, "verify"); err != nil || !strings.HasPrefix(out, "team audit log OK: 3 entries") {
		t.Fatalf("verify of a cut-off table without an anchor: %v, %q", err, out)
	}
	out, _, err = b.run(t, "verify", "--anchor", anchor, "-o", "json")
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitFailure || !strings.Contains(err.Error(), "TAMPERED") {
		t.Fatalf("verify --anchor of a cut-off table: %v, %q", err, out)
	}
	var r auditlog.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.OK || r.Problem == nil || r.Problem.Kind != auditlog.KindTruncated {
		t.Fatalf("verify --anchor -o json: %v, %+v", err, r)
	}

	// The canary: no private key, API key or age identity, in anything printed or stored.
	var lines []string
	if err := a.store.AuditLines(t.Context(), func(l team.AuditLine) error {
		lines = append(lines, string(l.Line), l.Host, l.Identity)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(append(outputs, lines...), "\n")
	for _, secret := range []string{a.secret, b.secret, "AGE-SECRET-KEY"} {
		if strings.Contains(strings.ToUpper(all), strings.ToUpper(secret)) {
			t.Fatal("an age identity appears in the log or the output")
		}
	}
	for _, line := range strings.Split(key.PrivateKey, "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(all, line) {
			t.Fatal("the API key appears in the log or the output")
		}
	}
}
