package team_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/team"
)

// An identity prints its public key and nothing else, whatever the verb; errors about one
// never quote it.
func TestIdentityNeverPrintsItsPrivateHalf(t *testing.T) {
	id := team.NewTestIdentity()
	secret := team.SecretOf(id)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v"} {
		out := fmt.Sprintf(verb, id)
		if strings.Contains(strings.ToUpper(out), "AGE-SECRET-KEY") || strings.Contains(out, secret) {
			t.Errorf("%s prints the private half: %s", verb, out)
		}
	}
	if got := fmt.Sprint(id); !strings.Contains(got, id.Recipient()) {
		t.Errorf("fmt.Sprint(id) = %q, want the public key", got)
	}
	// A mangled identity, or a recipient where an identity goes, is refused without quoting.
	for _, text := range []string{secret[:len(secret)-3] + "QQQ", secret + "\n" + secret, "", "# only a comment\n", id.Recipient()} {
		_, err := team.ParseIdentity(text, "env WAASCTL_AGE_IDENTITY")
		if err == nil {
			t.Errorf("ParseIdentity(%d bytes) accepted", len(text))
			continue
		}
		if strings.Contains(err.Error(), secret[20:40]) || !strings.HasPrefix(err.Error(), "env WAASCTL_AGE_IDENTITY: ") {
			t.Errorf("error: %v", err)
		}
	}
	// An identity given where a recipient goes is named for what it is.
	if _, err := team.ParseRecipient(secret); err == nil || strings.Contains(err.Error(), secret[20:40]) || !strings.Contains(err.Error(), "private half") {
		t.Errorf("ParseRecipient(identity) = %v", err)
	}
}

// The environment wins over the keyring; the keyring keeps one identity, which a second
// 'identity new' does not replace without being told to.
func TestIdentityFromEnvironmentAndKeyring(t *testing.T) {
	ctx := context.Background()
	kr := credentials.NewMemoryStore().(credentials.SecretStore)
	none := func(string) string { return "" }
	if _, err := team.LoadIdentity(ctx, none, kr, "memory"); !errors.Is(err, team.ErrNoIdentity) {
		t.Fatalf("LoadIdentity with none: %v", err)
	}
	made, err := team.NewIdentity(ctx, kr, "memory", false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := team.LoadIdentity(ctx, none, kr, "memory")
	if err != nil || got.Recipient() != made.Recipient() || got.Source != "keyring memory" {
		t.Fatalf("LoadIdentity = %v, %v", got, err)
	}
	again, err := team.NewIdentity(ctx, kr, "memory", false)
	if !errors.Is(err, team.ErrIdentityExists) || again.Recipient() != made.Recipient() {
		t.Fatalf("a second NewIdentity: %v, %v", again, err)
	}
	replaced, err := team.NewIdentity(ctx, kr, "memory", true)
	if err != nil || replaced.Recipient() == made.Recipient() {
		t.Fatalf("NewIdentity --replace: %v, %v", replaced, err)
	}
	ci := team.NewTestIdentity()
	env := func(k string) string {
		if k == team.IdentityEnv {
			return "# created: 2026-12-06\n# public key: " + ci.Recipient() + "\n" + team.SecretOf(ci) + "\n"
		}
		return ""
	}
	got, err = team.LoadIdentity(ctx, env, kr, "memory")
	if err != nil || got.Recipient() != ci.Recipient() || got.Source != "env WAASCTL_AGE_IDENTITY" {
		t.Fatalf("LoadIdentity from the environment = %v, %v", got, err)
	}
}
