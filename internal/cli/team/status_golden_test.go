package team

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/team/teamtest"
)

// fixedIdentity is an age identity that is the same on every run: its X25519 key is b repeated
// (made here, never written anywhere), so that golden files can name its public key.
func fixedIdentity(t *testing.T, b byte, source string) *team.Identity {
	t.Helper()
	id, err := team.ParseIdentity(strings.ToUpper(bech32Encode("age-secret-key-", bytes.Repeat([]byte{b}, 32))), source)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// bech32Encode is BIP 173's encoding, which age's identities and recipients use.
func bech32Encode(hrp string, data []byte) string {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	var values []byte // data regrouped from 8 bits to 5
	acc, bits := 0, 0
	for _, b := range data {
		acc, bits = acc<<8|int(b), bits+8
		for bits >= 5 {
			bits -= 5
			values = append(values, byte(acc>>bits&31))
		}
	}
	if bits > 0 {
		values = append(values, byte(acc<<(5-bits)&31))
	}
	polymod := func(vs []byte) int {
		gen := []int{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
		chk := 1
		for _, v := range vs {
			top := chk >> 25
			chk = (chk&0x1ffffff)<<5 ^ int(v)
			for i := range 5 {
				if top>>i&1 == 1 {
					chk ^= gen[i]
				}
			}
		}
		return chk
	}
	var expanded []byte
	for _, c := range hrp {
		expanded = append(expanded, byte(c>>5))
	}
	expanded = append(expanded, 0)
	for _, c := range hrp {
		expanded = append(expanded, byte(c&31))
	}
	mod := polymod(append(append(expanded, values...), 0, 0, 0, 0, 0, 0)) ^ 1
	out := hrp + "1"
	for _, v := range values {
		out += string(charset[v])
	}
	for i := range 6 {
		out += string(charset[mod>>(5*(5-i))&31])
	}
	return out
}

// goldenPinsWhere is where a host's config.yaml pins the recipients (config.StatePins).
const goldenPinsWhere = "state.recipients in /home/op/.config/waasctl/config.yaml"

// goldenTeamStore is a team store on the test PostgreSQL server (skipped without one, failed
// under WAASCTL_REQUIRE_POSTGRES=1, as every team test) holding recipients alice and bob, added
// at clitest.FixedNow by "alice@build-01" (set in the table: the server stamps now() and the
// user and host), pinned as config.yaml pins them, and two profiles' keys written by alice.
func goldenTeamStore(t *testing.T, alice, bob *team.Identity) *team.Store {
	t.Helper()
	ctx := t.Context()
	dsn := teamtest.NewDatabase(t)
	s, err := team.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if _, _, err := s.Migrate(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	recipients := []team.Recipient{{Name: "alice", PublicKey: alice.Recipient()}, {Name: "bob", PublicKey: bob.Recipient()}}
	if err := s.AddRecipients(ctx, recipients, nil, nil); err != nil {
		t.Fatal(err)
	}
	if s.Pins, err = team.NewPins(map[string]string{"alice": alice.Recipient(), "bob": bob.Recipient()}, goldenPinsWhere); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{"prod", "stage"} {
		if err := s.Keys(alice).Put(ctx, &credentials.Item{Profile: p, Current: clitest.FixedKey(t, byte(i+1), clitest.FixedNow, "")}); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `UPDATE waasctl.recipients SET added_at = $1, added_by = 'alice@build-01'`, clitest.FixedNow); err != nil {
		t.Fatal(err)
	}
	return s
}

var teamOutputs = []struct {
	suffix   string
	terminal bool
	format   cmdutil.OutputFormat
}{
	{"tty", true, ""},
	{"nontty", false, ""},
	{"json", false, cmdutil.OutputJSON},
}

func teamStreams(terminal bool) (*iostreams.IOStreams, *bytes.Buffer, *bytes.Buffer) {
	ios, _, stdout, stderr := iostreams.Test()
	if terminal {
		ios.SetStdoutTTY(true)
		ios.SetTerminalWidth(120)
	}
	return ios, stdout, stderr
}

func TestRecipientsListGolden(t *testing.T) {
	s := goldenTeamStore(t, fixedIdentity(t, 1, ""), fixedIdentity(t, 2, ""))
	for _, out := range teamOutputs {
		t.Run(out.suffix, func(t *testing.T) {
			ios, stdout, stderr := teamStreams(out.terminal)
			opts := &RecipientsListOptions{IO: ios, TeamStore: func() (*team.Store, error) { return s, nil }, Output: func() cmdutil.OutputFormat { return out.format }}
			if err := recipientsListRun(t.Context(), opts); err != nil || stderr.Len() != 0 {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			clitest.Golden(t, "recipients_list_"+out.suffix+".golden", stdout.String())
		})
	}
}

// TestStatusGolden: the status alice's host sees (a recipient, reads every key) and the one a
// host with an identity that is no recipient sees.
func TestStatusGolden(t *testing.T) {
	alice := fixedIdentity(t, 1, "keyring secret-service")
	s := goldenTeamStore(t, alice, fixedIdentity(t, 2, ""))
	cases := []struct {
		name     string
		id       *team.Identity
		terminal bool
		format   cmdutil.OutputFormat
	}{{"status_outsider_nontty", fixedIdentity(t, 3, "env WAASCTL_AGE_IDENTITY"), false, ""}}
	for _, out := range teamOutputs {
		cases = append(cases, struct {
			name     string
			id       *team.Identity
			terminal bool
			format   cmdutil.OutputFormat
		}{"status_" + out.suffix, alice, out.terminal, out.format})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ios, stdout, stderr := teamStreams(tc.terminal)
			opts := &StatusOptions{IO: ios, TeamStore: func() (*team.Store, error) { return s, nil },
				AgeIdentity: func() (*team.Identity, error) { return tc.id, nil },
				Output:      func() cmdutil.OutputFormat { return tc.format }}
			if err := statusRun(t.Context(), opts); err != nil || stderr.Len() != 0 {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			// The one field normalised: the database is named after the throwaway server's
			// socket folder and a random database name (scripts/with-postgres.sh, teamtest), both
			// chosen per run; the rest of the line (kind, user) is kept.
			got := strings.ReplaceAll(stdout.String(), s.String(), "postgres database waasctl_team_TEST on /SOCKET as waasctl")
			clitest.Golden(t, tc.name+".golden", got)
		})
	}
}
