package keys

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// TestKeysRevokeGolden: what `keys revoke` says, on a terminal and piped, when it revokes the
// previous key (named by its short fingerprint), the current key with --force (the profile is
// left without a key), and the current key with --rotate-first (an emergency rotation, which
// takes no snapshot). Everything goes to stderr.
func TestKeysRevokeGolden(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		revoked string // the FixedKey ID prefix of the key WaaS must refuse afterwards
	}{
		{"revoke_previous", []string{"prod", "--key", "SHA256:R96ljqAPrpQX", "--reason", "left over from a rotation", "--yes"}, "22222222"},
		{"revoke_force", []string{"prod", "--reason", "key pasted in a public issue", "--force", "--yes"}, "11111111"},
		{"revoke_rotate_first", []string{"prod", "--reason", "key pasted in a public issue", "--rotate-first", "--yes"}, "11111111"},
	} {
		for _, terminal := range []bool{true, false} {
			name := tc.name + map[bool]string{true: "_tty", false: "_nontty"}[terminal]
			t.Run(name, func(t *testing.T) {
				e := newGoldenKeysEnv(t, terminal, tc.name == "revoke_previous")
				cmd := NewCmdRevoke(e.f, nil)
				env := &clitest.Env{Factory: e.f, Stdout: e.out, Stderr: e.err}
				stdout, stderr, err := env.Run(t, cmd, tc.args...)
				if err != nil {
					t.Fatalf("err %v, stderr %s", err, stderr)
				}
				refused := false
				for _, k := range e.srv.APIKeys(e.srv.DefaultOrg()) {
					if k.Name[len(k.Name)-36:][:8] == tc.revoked {
						refused = k.State == waasapi.APIKeyRevoked
					}
				}
				if !refused {
					t.Fatalf("the key %s… is not revoked at the sandbox", tc.revoked)
				}
				clitest.Golden(t, name+".golden", stdout)
				clitest.Golden(t, name+".stderr.golden", stderr)
			})
		}
	}
}

// TestKeysRevokeRefusalsGolden: what `keys revoke` says when it refuses, as the user sees it
// ("error: " and the message, the usage hint for a usage error), and that nothing was revoked:
// the current key without --force or --rotate-first, a fingerprint the profile does not hold,
// the old key of a rotation waiting out its grace period, and no confirmation off a terminal.
func TestKeysRevokeRefusalsGolden(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		inGrace   bool // a rotation of prod stopped at its grace period first
		wantUsage bool
	}{
		{"revoke_refused_current", []string{"prod", "--reason", "key pasted in a public issue", "--yes"}, false, true},
		{"revoke_refused_unknown_fingerprint", []string{"prod", "--key", "SHA256:AAAAAAAAAAAA", "--reason", "r", "--yes"}, false, true},
		{"revoke_refused_unconfirmed", []string{"prod", "--reason", "key pasted in a public issue", "--force"}, false, true},
		{"revoke_refused_rotation_old_key", []string{"prod", "--key", "SHA256:/RENMB0vB33h", "--reason", "r", "--yes"}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGoldenKeysEnv(t, false, false)
			env := &clitest.Env{Factory: e.f, Stdout: e.out, Stderr: e.err}
			if tc.inGrace {
				rotate := NewCmdRotate(e.f, func(ctx context.Context, opts *RotateOptions) error {
					opts.Now = func() time.Time { return clitest.FixedNow }
					return rotateRun(ctx, opts)
				})
				if _, _, err := env.Run(t, rotate, "prod", "--yes", "--grace", "24h"); err == nil {
					t.Fatal("the rotation did not stop at its grace period")
				}
			}
			before := revokedKeys(e)
			stdout, stderr, err := env.Run(t, NewCmdRevoke(e.f, nil), tc.args...)
			var flagErr *cmdutil.FlagError
			if err == nil || errors.As(err, &flagErr) != tc.wantUsage {
				t.Fatalf("err %v (a usage error: %v), want a refusal that is a usage error: %v", err, errors.As(err, &flagErr), tc.wantUsage)
			}
			if after := revokedKeys(e); after != before {
				t.Fatalf("%d keys revoked after the refusal, %d before", after, before)
			}
			if tc.inGrace {
				stderr = "" // the rotation's own lines, golden in TestKeysRotateGraceStopGolden
			}
			clitest.Golden(t, tc.name+".golden", stdout)
			clitest.Golden(t, tc.name+".stderr.golden", withoutRotationID(stderr+"error: "+err.Error()+"\n"))
		})
	}
}

// revokedKeys counts the sandbox's revoked keys.
func revokedKeys(e *goldenKeysEnv) int {
	n := 0
	for _, k := range e.srv.APIKeys(e.srv.DefaultOrg()) {
		if k.State == waasapi.APIKeyRevoked {
			n++
		}
	}
	return n
}
