package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/prompter"
)

// A new file keyring's passphrase is typed twice; a mismatch asks again, three give up.
func TestNewPassphraseAskedTwice(t *testing.T) {
	var stderr bytes.Buffer
	p := &prompter.Scripted{Secrets: []string{"horse", "hrose", "horse", "horse"}}
	got, err := newPassphrase(p, &stderr)
	if err != nil || got != "horse" || len(p.Asked) != 4 || !strings.Contains(stderr.String(), "differ") {
		t.Fatalf("got %q, %v after %d prompts; stderr %q", got, err, len(p.Asked), stderr.String())
	}
	p = &prompter.Scripted{Secrets: []string{"a", "b", "a", "b", "a", "b"}}
	if _, err := newPassphrase(p, &stderr); err == nil || !strings.Contains(err.Error(), "did not match") {
		t.Fatalf("three mismatches: %v", err)
	}
}
