package team

import (
	"testing"
	"testing/cryptotest"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/testctx"
)

// TestTeamIdentityNewGolden: `team identity new` prints the new public key alone on stdout (for
// a script to capture) and on stderr what to do with it, on a terminal and piped; with
// WAASCTL_AGE_IDENTITY set it also says that the variable wins. The identity is drawn from
// crypto/rand, seeded here, so it is the same on every run (no PostgreSQL is needed).
func TestTeamIdentityNewGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		envSet bool
	}{{"identity_new", false}, {"identity_new_env_set", true}} {
		for _, terminal := range []bool{true, false} {
			name := tc.name + map[bool]string{true: "_tty", false: "_nontty"}[terminal]
			t.Run(name, func(t *testing.T) {
				cryptotest.SetGlobalRandom(t, 1)
				ios, _, stdout, stderr := iostreams.Test()
				if terminal {
					ios.SetStdoutTTY(true)
					ios.SetTerminalWidth(120)
				}
				store := credentials.NewMemoryStore()
				dir := t.TempDir()
				opts := &IdentityNewOptions{
					IO:           ios,
					LocalKeyring: func() (credentials.Store, error) { return store, nil },
					Getenv: func(k string) string {
						if tc.envSet && k == team.IdentityEnv {
							return "AGE-SECRET-KEY-set-by-the-ci" // only its presence is read
						}
						return ""
					},
					StateDir: func() (string, error) { return dir, nil },
				}
				if err := identityNewRun(testctx.New(t), opts); err != nil {
					t.Fatalf("err %v, stderr %s", err, stderr)
				}
				clitest.Golden(t, name+".golden", stdout.String())
				clitest.Golden(t, name+".stderr.golden", stderr.String())
			})
		}
	}
}
