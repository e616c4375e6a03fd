package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/pgdsn"
	"github.com/waasctl/waasctl/internal/process"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// teamSkipLine is what the demo says instead of its team step when it has no PostgreSQL DSN.
const teamSkipLine = "Team mode: run with --state-dsn postgres://... (or WAASCTL_STATE_DSN) to see two hosts share one rotation (docs/team.md)."

// demoHost is one simulated machine of the team step: its own HOME, config, state folder, file
// keyring and age identity, all under the demo's temporary folder, and its host name in the
// team store's lock and audit rows.
type demoHost struct {
	name, role string
	dir        string
	env        []string
}

// teamStep is the team step: two hosts share one PostgreSQL team store (docs/team.md); host A
// adds a key and starts a rotation that stops part way, host B sees it and finishes it. Each
// host is a real `waasctl` process run with that host's environment, so the output is the
// commands' own.
func (d *demo) teamStep(ctx context.Context, tmp string) (err error) {
	if d.stateDSN == "" {
		fmt.Fprintf(d.out, "\n%s\n", teamSkipLine)
		return nil
	}
	d.heading("Team mode: two hosts share one rotation through PostgreSQL (docs/team.md)")
	// A database of its own, dropped at the end: the demo never touches a team's store.
	dsn, dropDB, err := createDemoDatabase(ctx, d.stateDSN)
	if err != nil {
		return err
	}
	defer func() {
		if derr := dropDB(); err == nil {
			err = derr
		}
	}()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("team step: finding waasctl's own executable: %w", err)
	}

	key, err := d.srv.CreateAPIKey(d.srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "team"})
	if err != nil {
		return err
	}
	envPath := filepath.Join(tmp, "team-proxy.env")
	if err := os.WriteFile(envPath, []byte("HTTP_ADDRESS=0.0.0.0:8091\n"), 0o600); err != nil {
		return err
	}
	// Each host keeps its own config.yaml: the same endpoint, issuer and sink, but the CI runner
	// may not restart the proxy, so its restart command fails and its rotation stops there.
	sink := fmt.Sprintf("{type: envfile, path: %q}", envPath)
	configs := map[string]string{
		"host-a": fmt.Sprintf("{type: envfile, path: %q, restart: [sh, -c, 'echo \"systemctl restart waas-proxy: permission denied on the CI runner\" >&2; exit 1']}", envPath),
		"host-b": sink,
	}
	hosts := make(map[string]*demoHost)
	for _, h := range []*demoHost{{name: "host-a", role: "a CI runner"}, {name: "host-b", role: "an on-call laptop"}} {
		h.dir = filepath.Join(tmp, h.name)
		for _, sub := range []string{"home", "config", "state", "keyring", "tmp"} {
			if err := os.MkdirAll(filepath.Join(h.dir, sub), 0o700); err != nil {
				return err
			}
		}
		cfg := fmt.Sprintf("profiles:\n  prod:\n    endpoint: %s\n    issuer: {type: sandbox}\n    sinks:\n      - %s\n", d.url, configs[h.name])
		cfgPath := filepath.Join(h.dir, "config", "config.yaml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			return err
		}
		h.env = []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + filepath.Join(h.dir, "home"),
			"XDG_CONFIG_HOME=" + filepath.Join(h.dir, "config"),
			"XDG_STATE_HOME=" + filepath.Join(h.dir, "state"),
			"TMPDIR=" + filepath.Join(h.dir, "tmp"),
			"WAASCTL_CONFIG=" + cfgPath,
			"WAASCTL_KEYRING_BACKEND=file",
			"WAASCTL_KEYRING_DIR=" + filepath.Join(h.dir, "keyring"),
			// Guards only the demo's throwaway keyring of this host's age identity.
			"WAASCTL_KEYRING_PASSPHRASE=demo-" + h.name,
			config.StateDSNEnv + "=" + dsn,
			team.HostNameEnv + "=" + h.name,
		}
		// The libpq variables the DSN may rely on (PGPASSWORD, PGSSLROOTCERT, ...) reach the hosts:
		// they connect as the demo does. (Their own children do not get PGPASSWORD.)
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, "PG") {
				h.env = append(h.env, kv)
			}
		}
		hosts[h.name] = h
	}
	a, b := hosts["host-a"], hosts["host-b"]
	fmt.Fprintf(d.out, "host-a is %s and host-b %s: each has its own state folder, file keyring and age\n", a.role, b.role)
	fmt.Fprintf(d.out, "identity (under %s), and both use one team store, a database of its own on the\n", tmp)
	fmt.Fprintln(d.out, "PostgreSQL server given, dropped when the demo ends.")

	run := func(h *demoHost, wantCode int, args ...string) (string, error) {
		fmt.Fprintf(d.out, "\n[%s, %s] $ waasctl %s\n", h.name, h.role, strings.Join(args, " "))
		cmd := process.Command(ctx, append([]string{exe}, args...))
		// argv[0] is waasctl whatever the file is called (a test binary serves as waasctl too).
		cmd.Args[0], cmd.Env, cmd.Dir = "waasctl", h.env, h.dir
		var out cappedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		rerr := process.Run(ctx, cmd)
		code := 0
		if ee := (*exec.ExitError)(nil); errors.As(rerr, &ee) {
			code = ee.ExitCode()
		} else if rerr != nil {
			return "", fmt.Errorf("team step: running waasctl %s on %s: %w", args[0], h.name, rerr)
		}
		text := out.String()
		for line := range strings.Lines(strings.TrimRight(text, "\n")) {
			fmt.Fprintf(d.out, "  %s", line)
		}
		if text != "" {
			fmt.Fprintln(d.out)
		}
		if code != wantCode {
			return "", fmt.Errorf("team step: waasctl %s on %s exited %d, want %d", strings.Join(args, " "), h.name, code, wantCode)
		}
		return text, nil
	}

	pub := make(map[string]string)
	for _, h := range []*demoHost{a, b} {
		out, err := run(h, 0, "team", "identity", "new")
		if err != nil {
			return err
		}
		// stdout is the public key alone; stderr's note follows it.
		pub[h.name], _, _ = strings.Cut(out, "\n")
	}
	if _, err := run(a, 0, "team", "init", "--recipient", "host-a="+pub["host-a"], "--recipient", "host-b="+pub["host-b"]); err != nil {
		return err
	}
	// team init pinned both members in host A's config.yaml; a team commits that to its ops
	// repository and every host pulls it. Here host B's copy gets the same pins.
	pins := map[string]string{"host-a": pub["host-a"], "host-b": pub["host-b"]}
	if err := config.PinStateRecipients(filepath.Join(b.dir, "config", "config.yaml"), pins, nil); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "(host B's config.yaml gets the same pins, as a team's hosts pull it from the ops repository)\n")
	keyFile := filepath.Join(a.dir, "cdp_api_key.json")
	data, _ := json.Marshal(bootstrapKeyFile{Name: key.Name, PrivateKey: key.PrivateKey})
	if err := os.WriteFile(keyFile, data, 0o600); err != nil {
		return err
	}
	if _, err := run(a, 0, "auth", "add", "prod", "--key-file", filepath.Base(keyFile)); err != nil {
		return err
	}
	if err := os.Remove(keyFile); err != nil { // the team store holds it now, encrypted
		return err
	}
	fmt.Fprintln(d.out, "\nThe CI runner rotates the key, but may not restart the proxy: the rotation stops part way,")
	fmt.Fprintln(d.out, "its journal in the team store.")
	if _, err := run(a, 5, "keys", "rotate", "prod", "--yes"); err != nil {
		return err
	}
	fmt.Fprintln(d.out, "\nThe on-call laptop sees the rotation, the host that started it and its step, and finishes it.")
	if _, err := run(b, 0, "keys", "status", "prod", "-o", "table"); err != nil {
		return err
	}
	if _, err := run(b, 0, "keys", "rotate", "prod", "--resume"); err != nil {
		return err
	}
	fmt.Fprintln(d.out, "\nBoth hosts' entries are in one hash-chained audit log, which either host can verify.")
	if _, err := run(a, 0, "log", "show", "--profile", "prod", "-o", "table"); err != nil {
		return err
	}
	if _, err := run(a, 0, "log", "verify"); err != nil {
		return err
	}
	return nil
}

// cappedBuffer keeps what a child prints, up to 1 MiB; a child printing more fails its write.
type cappedBuffer struct{ bytes.Buffer }

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > 1<<20 {
		return 0, errors.New("printed more than 1 MiB")
	}
	return b.Buffer.Write(p)
}

// isPostgresURL says whether dsn is a postgres:// (or postgresql://) URL, the form whose
// database the demo can replace with its own.
func isPostgresURL(dsn string) bool {
	u, err := url.Parse(dsn)
	return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql")
}

// createDemoDatabase creates a database of the demo's own on the server adminDSN names and
// returns its DSN and a func that drops it. The demo's team store lives there, so that a DSN of
// a team's real store is never written to.
func createDemoDatabase(ctx context.Context, adminDSN string) (string, func() error, error) {
	u, err := url.Parse(adminDSN)
	if err != nil || !isPostgresURL(adminDSN) {
		return "", nil, errors.New("team step: --state-dsn must be a postgres:// URL (the demo creates a database of its own on that server)")
	}
	// The admin connection follows the team store's rule: no password in clear to another host.
	if err := team.CheckDSN(adminDSN, os.Getenv); err != nil {
		return "", nil, fmt.Errorf("team step: %w", err)
	}
	password, _ := u.User.Password()
	scrub := func(what string, err error) error {
		return fmt.Errorf("team step: %s: %w (the demo needs a role that may CREATE DATABASE: it makes one of its own and drops it)", what, pgdsn.Scrub(err, password))
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "waasctl_demo_" + hex.EncodeToString(suffix)
	execSQL := func(ctx context.Context, sql string) error {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminDSN)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	db := pgx.Identifier{name}.Sanitize()
	if err := execSQL(ctx, "CREATE DATABASE "+db); err != nil {
		return "", nil, scrub("creating the demo's database", err)
	}
	drop := func() error {
		// The demo's context may be cancelled (Ctrl-C): the database is dropped all the same.
		if err := execSQL(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			return scrub("dropping the demo's database "+name, err)
		}
		return nil
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), drop, nil
}
