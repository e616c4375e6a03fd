package team

import (
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/team/teamtest"
)

// Flags become options, as gh's TestNewCmdList tables check: what each flag and argument sets,
// and the usage error (exit 2) a bad one gets before the team store is opened. None of these
// connects to PostgreSQL: the options hold only the functions that would.

func TestNewCmdIdentityNew(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		args        []string
		wantReplace bool
		wantErr     string
	}{
		{args: nil},
		{args: []string{"--replace"}, wantReplace: true},
		{args: []string{"alice"}, wantErr: `unexpected argument "alice" for "new"`},
	} {
		got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdIdentityNew), tc.args...)
		if tc.wantErr != "" {
			clitest.WantUsageError(t, tc.args, err, tc.wantErr)
			continue
		}
		if err != nil || got.Replace != tc.wantReplace {
			t.Errorf("%q: options %+v, err %v; want replace %v", tc.args, got, err, tc.wantReplace)
		}
	}
}

func TestNewCmdInit(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	alice, _ := teamtest.NewIdentity(t)
	ci, secret := teamtest.NewIdentity(t)
	for _, tc := range []struct {
		name    string
		args    []string
		want    []team.Recipient
		wantErr string
	}{
		{name: "no recipients", args: nil},
		{name: "recipients", args: []string{"--recipient", "alice=" + alice.Recipient(), "--recipient", "ci-nightly= " + ci.Recipient() + " "},
			want: []team.Recipient{{Name: "alice", PublicKey: alice.Recipient()}, {Name: "ci-nightly", PublicKey: ci.Recipient()}}},
		{name: "no name", args: []string{"--recipient", alice.Recipient()}, wantErr: "--recipient wants NAME=age1..., as in --recipient alice=age1..."},
		{name: "bad name", args: []string{"--recipient", "alice/laptop=" + alice.Recipient()}, wantErr: "invalid recipient name"},
		{name: "not a public key", args: []string{"--recipient", "alice=age1nope"}, wantErr: "--recipient alice: not an age X25519 recipient"},
		{name: "the secret key", args: []string{"--recipient", "ci=" + secret}, wantErr: "--recipient ci: that is an age identity (the private half), not a recipient"},
		{name: "argument", args: []string{"alice=" + alice.Recipient()}, wantErr: "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdInit), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				if err != nil && strings.Contains(err.Error(), "AGE-SECRET-KEY") {
					t.Errorf("the usage error quotes the secret key")
				}
				return
			}
			if err != nil || len(got.Recipients) != len(tc.want) {
				t.Fatalf("%q: options %+v, err %v; want recipients %+v", tc.args, got, err, tc.want)
			}
			for i := range tc.want {
				if got.Recipients[i] != tc.want[i] {
					t.Errorf("%q: recipient %d is %+v, want %+v", tc.args, i, got.Recipients[i], tc.want[i])
				}
			}
		})
	}
}

func TestNewCmdRecipientsAdd(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	bob, secret := teamtest.NewIdentity(t)
	for _, tc := range []struct {
		name    string
		args    []string
		want    team.Recipient
		wantErr string
	}{
		{name: "name and key", args: []string{"bob", bob.Recipient()}, want: team.Recipient{Name: "bob", PublicKey: bob.Recipient()}},
		{name: "key with spaces", args: []string{"ci@build-7", " " + bob.Recipient() + "\n"}, want: team.Recipient{Name: "ci@build-7", PublicKey: bob.Recipient()}},
		{name: "no key", args: []string{"bob"}, wantErr: "give the recipient's NAME and its public key age1..."},
		{name: "nothing", args: nil, wantErr: "give the recipient's NAME and its public key age1..."},
		{name: "bad name", args: []string{"bob/laptop", bob.Recipient()}, wantErr: "invalid recipient name"},
		{name: "not a public key", args: []string{"bob", "age1nope"}, wantErr: "not an age X25519 recipient: want the age1... public key that 'waasctl team identity new' prints"},
		{name: "the secret key", args: []string{"bob", secret}, wantErr: "that is an age identity (the private half), not a recipient: give its public key"},
		{name: "three arguments", args: []string{"bob", bob.Recipient(), "extra"}, wantErr: `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := clitest.ParseFlags(t, env, NewCmdRecipientsAdd, tc.args...)
			if tc.want == (team.Recipient{}) {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				if err != nil && strings.Contains(err.Error(), "AGE-SECRET-KEY") {
					t.Errorf("the usage error quotes the secret key")
				}
				return
			}
			if err != nil || got.Recipient != tc.want {
				t.Errorf("%q: options %+v, err %v; want recipient %+v", tc.args, got, err, tc.want)
			}
		})
	}
}

func TestNewCmdRecipientsList(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	if _, err := clitest.ParseFlags(t, env, NewCmdRecipientsList); err != nil {
		t.Fatal(err)
	}
	args := []string{"alice"}
	_, err := clitest.ParseFlags(t, env, NewCmdRecipientsList, args...)
	clitest.WantUsageError(t, args, err, `unexpected argument "alice" for "list"`)
}

func TestNewCmdRecipientsRemove(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		name     string
		args     []string
		terminal bool
		wantName string
		wantYes  bool
		wantErr  string
	}{
		{name: "yes", args: []string{"bob", "--yes"}, wantName: "bob", wantYes: true},
		{name: "y", args: []string{"ci@build-7", "-y"}, wantName: "ci@build-7", wantYes: true},
		{name: "asks on a terminal", args: []string{"bob"}, terminal: true, wantName: "bob"},
		{name: "no terminal, no yes", args: []string{"bob"}, wantErr: "refusing to remove a recipient without confirmation: pass --yes"},
		{name: "no name", args: []string{"-y"}, wantErr: "give the NAME of the recipient to remove"},
		{name: "bad name", args: []string{"bob/laptop", "-y"}, wantErr: "invalid recipient name"},
		{name: "two names", args: []string{"bob", "alice", "-y"}, wantErr: `unexpected argument "alice"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.Factory.IOStreams.SetStdinTTY(tc.terminal)
			env.Factory.IOStreams.SetStdoutTTY(tc.terminal)
			got, err := clitest.ParseFlags(t, env, NewCmdRecipientsRemove, tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil || got.Name != tc.wantName || got.Yes != tc.wantYes {
				t.Errorf("%q: options %+v, err %v; want name %q, yes %v", tc.args, got, err, tc.wantName, tc.wantYes)
			}
		})
	}
}

func TestNewCmdStatus(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	if _, err := clitest.ParseFlags(t, env, NewCmdStatus); err != nil {
		t.Fatal(err)
	}
	args := []string{"--verbose"}
	_, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdStatus), args...)
	clitest.WantUsageError(t, args, err, "unknown flag: --verbose")
}
