package main

import (
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/team/teamtest"
)

// cmdTeamDB implements "teamdb NAME": create an empty database NAME (dropped when the script
// ends) on the server of $WAASCTL_TEST_POSTGRES_DSN and set $TEAM_DSN to its DSN. Without that
// server the script is skipped, or fails if WAASCTL_REQUIRE_POSTGRES=1.
func cmdTeamDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: teamdb NAME")
	}
	admin := os.Getenv(sandboxtest.PostgresDSNEnv)
	if admin == "" {
		if os.Getenv(sandboxtest.RequirePostgresEnv) == "1" {
			ts.Fatalf("teamdb: %s is unset but %s=1", sandboxtest.PostgresDSNEnv, sandboxtest.RequirePostgresEnv)
		}
		stateOf(ts).t.Skip("teamdb: no PostgreSQL server (" + sandboxtest.PostgresDSNEnv + " is unset; see scripts/with-postgres.sh)")
	}
	dsn, err := teamtest.CreateDatabase(context.Background(), admin, args[0])
	ts.Check(err)
	ts.Defer(func() {
		if err := teamtest.DropDatabase(context.Background(), admin, args[0]); err != nil {
			ts.Logf("teamdb: dropping %s: %v", args[0], err)
		}
	})
	ts.Setenv("TEAM_DSN", dsn)
}

// cmdAgeIdentity implements "ageidentity NAME": make an age X25519 identity as age-keygen does,
// writing the identity to NAME and its public key to NAME.pub (a CI job's identity, made on a
// trusted machine and kept in the CI's secret store).
func cmdAgeIdentity(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: ageidentity NAME")
	}
	id, err := age.GenerateX25519Identity()
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte("# created: by the test\n"+id.String()+"\n"), 0o600))
	ts.Check(os.WriteFile(ts.MkAbs(args[0]+".pub"), []byte(id.Recipient().String()+"\n"), 0o600))
}

// cmdOnHost implements "onhost NAME PROG [ARG...]": run PROG as if on the host named NAME, and
// set $NAME (upper-cased, '-' as '_': host-a sets $HOST_A) to the host name it ran under. As root with
// unshare on PATH, PROG runs in a UTS namespace of its own whose host name is NAME, as the
// team-mode checks simulate hosts; elsewhere it runs under this machine's name, which
// $NAME then holds, so that the scripts' assertions hold either way.
func cmdOnHost(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: onhost NAME PROG [ARG...]")
	}
	name := args[0]
	envName := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	var err error
	if _, lookErr := exec.LookPath("unshare"); os.Geteuid() == 0 && lookErr == nil {
		ts.Setenv(envName, name)
		err = ts.Exec("unshare", append([]string{"--uts", "sh", "-c", `hostname "$1" && shift && exec "$@"`, "sh", name}, args[1:]...)...)
	} else {
		h, _ := os.Hostname()
		ts.Setenv(envName, h)
		err = ts.Exec(args[1], args[2:]...)
	}
	if neg != (err != nil) {
		ts.Fatalf("onhost %s: %v (unexpected)", name, err)
	}
}

// cmdTeamDump implements "teamdump FILE": write every row of every table of the waasctl schema
// in $TEAM_DSN to FILE as JSON, one row a line, each bytea value (snapshot content, ciphertexts)
// followed by its bytes decoded, so that nocanary and grep search what the database holds.
func cmdTeamDump(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: teamdump FILE")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ts.Getenv("TEAM_DSN"))
	ts.Check(err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'waasctl' ORDER BY 1`)
	ts.Check(err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	ts.Check(err)
	var out strings.Builder
	hexRun := regexp.MustCompile(`\\\\x([0-9a-f]+)`)
	for _, table := range tables {
		rows, err := conn.Query(ctx, `SELECT row_to_json(t)::text FROM waasctl.`+pgx.Identifier{table}.Sanitize()+` t`)
		ts.Check(err)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		ts.Check(err)
		for _, line := range lines {
			out.WriteString(table + " " + line + "\n")
			for _, m := range hexRun.FindAllStringSubmatch(line, -1) {
				if b, err := hex.DecodeString(m[1]); err == nil {
					out.Write(b)
					out.WriteString("\n")
				}
			}
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(out.String()), 0o600))
	ts.Logf("teamdump: %d tables, %d bytes", len(tables), out.Len())
}

// cmdTeamSQL implements "teamsql SQL [ARG...]": run SQL on $TEAM_DSN as anyone who can write
// the database would, each ARG a parameter ($1, ...); an ARG @FILE is that file's content,
// trimmed.
func cmdTeamSQL(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: teamsql SQL [ARG...]")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ts.Getenv("TEAM_DSN"))
	ts.Check(err)
	defer conn.Close(ctx)
	var params []any
	for _, a := range args[1:] {
		if f, ok := strings.CutPrefix(a, "@"); ok {
			a = strings.TrimSpace(ts.ReadFile(f))
		}
		params = append(params, a)
	}
	tag, err := conn.Exec(ctx, args[0], params...)
	ts.Check(err)
	ts.Logf("teamsql: %s", tag)
}
