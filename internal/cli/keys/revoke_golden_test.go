package keys

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
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
