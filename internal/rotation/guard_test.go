package rotation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
)

// corruptKeyIssuer is a plugin whose new key arrives damaged: its error says "private key is
// truncated or corrupt", the words the old guard took for a key.
type corruptKeyIssuer struct{ currentIssuer }

func (c *corruptKeyIssuer) Create(context.Context, string) (*NewKey, error) {
	return nil, fmt.Errorf(`issuer command "vault" create: %w`, credentials.ErrCorrupt)
}

// TestEngineRecordsAFailureAboutAPrivateKey: a step that fails because a private key is
// corrupt is recorded in the journal and the audit log, like any other failure.
func TestEngineRecordsAFailureAboutAPrivateKey(t *testing.T) {
	r := newRig(t)
	r.e.Issuer = &corruptKeyIssuer{currentIssuer{r: r}}
	auditDir := t.TempDir()
	audit, err := auditlog.Open(auditDir)
	if err != nil {
		t.Fatal(err)
	}
	r.e.Audit = audit
	var reported []string
	r.e.Report = func(_ Step, msg string) { reported = append(reported, msg) }

	_, err = r.e.Rotate(testctx.New(t))
	if !errors.Is(err, credentials.ErrCorrupt) {
		t.Fatalf("Rotate: %v", err)
	}
	const want = "private key is truncated or corrupt"
	j, err := LoadJournal(r.e.StateDir, "prod")
	if err != nil || j == nil {
		t.Fatalf("journal: %v %v", j, err)
	}
	if last := j.Events[len(j.Events)-1]; j.Step != StepCreate || !strings.Contains(last.Message, "failed: ") || !strings.Contains(last.Message, want) {
		t.Fatalf("the journal does not record the failure: at %s, last event %+v", j.Step, last)
	}
	var recorded bool
	for e, err := range auditlog.Read(auditDir) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Action == "rotate.create" && e.Outcome == auditlog.OutcomeFailed && strings.Contains(e.Detail, want) {
			recorded = true
		}
	}
	if !recorded {
		t.Fatalf("the audit log does not record the failure; the engine reported %q", reported)
	}
}

// TestEngineGuardsTheProfilesOwnKeys: the journal and the audit log refuse the profile's own
// key in forms that no generic rule can tell from a hash, once the engine has read the keyring.
func TestEngineGuardsTheProfilesOwnKeys(t *testing.T) {
	r := newRig(t)
	audit, err := auditlog.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r.e.Audit = audit
	if _, err := r.e.item(testctx.New(t)); err != nil {
		t.Fatal(err)
	}
	signer, err := credentials.ParsePrivateKey(r.item().Current.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	scalar, err := signer.(interface{ Bytes() ([]byte, error) }).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	scalarHex := hex.EncodeToString(scalar) // as long as a SHA-256 in hex
	if credentials.LooksSecret(scalarHex) {
		t.Fatal("the generic rules refuse any 32-byte hex: the audit log's hashes would be refused")
	}
	j, err := NewJournal("prod", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	j.GuardAgainst(&r.e.guard)
	_ = j.Advance(j.Step, "vault said: "+scalarHex)
	if err := j.Save(t.TempDir()); err == nil || strings.Contains(err.Error(), scalarHex[:16]) {
		t.Fatalf("journal with the key's scalar in hex: %v", err)
	}
	var reported []string
	r.e.Report = func(_ Step, msg string) { reported = append(reported, msg) }
	r.e.audit(j, "rotate.create", auditlog.OutcomeFailed, "vault said: "+strings.ToUpper(scalarHex))
	if len(reported) != 1 || !strings.Contains(reported[0], auditlog.ErrSecret.Error()) {
		t.Fatalf("audit entry with the key's scalar in hex: reported %q", reported)
	}
	if _, err := os.Stat(filepath.Join(audit.Dir(), auditlog.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the entry was written: %v", err)
	}
}

// secretName is an Ed25519 secret, pasted where a key name belongs.
func secretName(t *testing.T) string {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

func assertNameRefused(t *testing.T, what string, err error, secret string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("key name (%d characters) is not %s", len(secret), credentials.KeyNameForms)) {
		t.Fatalf("%s: %v, want the key name refused", what, err)
	}
	assertNoSecret(t, err.Error(), secret)
}

// TestJournalRefusesASecretAsKeyName: a journal whose key name is not one is neither saved nor
// loaded (resume would print it and revoke by it), and the error does not quote it.
func TestJournalRefusesASecretAsKeyName(t *testing.T) {
	secret := secretName(t)
	for _, field := range []string{"old_key", "new_key"} {
		dir := t.TempDir()
		j := fullJournal(t)
		if err := j.Save(dir); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(journalPath(dir, "prod"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		m[field].(map[string]any)["name"] = secret
		data, _ = json.Marshal(m)
		if err := os.WriteFile(journalPath(dir, "prod"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = LoadJournal(dir, "prod")
		assertNameRefused(t, "LoadJournal, "+field, err, secret)
		if !strings.Contains(err.Error(), field+".name") || !strings.Contains(err.Error(), "move it aside") {
			t.Fatalf("LoadJournal, %s: %v", field, err)
		}

		j = fullJournal(t)
		if field == "old_key" {
			j.OldKey.Name = secret
		} else {
			j.NewKey.Name = secret
		}
		assertNameRefused(t, "Save, "+field, j.Save(t.TempDir()), secret)
	}
}

// TestIssuersRefuseASecretAsKeyName: a plugin's create or find output, and the key the
// operator hands the manual issuer, are refused when the name is a secret.
func TestIssuersRefuseASecretAsKeyName(t *testing.T) {
	ctx := testctx.New(t)
	secret := secretName(t)
	keyJSON, _ := json.Marshal(map[string]string{"name": secret, "privateKey": secret})
	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	if err := os.WriteFile(out, keyJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	plugin := &ExecIssuer{Command: []string{"sh", "-c", `cat "$0"`, out}}
	_, err := plugin.Create(ctx, "r")
	assertNameRefused(t, "exec create", err, secret)

	manual := &ManualIssuer{
		Instruct: func(string) {},
		Obtain:   func(context.Context) ([]byte, string, error) { return keyJSON, "file new.json", nil },
	}
	_, err = manual.Create(ctx, "r")
	assertNameRefused(t, "manual create", err, secret)

	// find: the engine checks the name whatever the issuer.
	e := &Engine{Issuer: &ExecIssuer{Command: []string{"sh", "-c", `printf '{"name":"%s"}' "$0"`, secret}}}
	name, found, err := e.find(ctx, "r")
	if found || name != "" {
		t.Fatalf("find handed on %q", name)
	}
	assertNameRefused(t, "exec find", err, secret)
}
