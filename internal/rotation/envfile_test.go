package rotation

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/credentials"
)

type envTestKey struct {
	name, pem, fingerprint string
	ec                     *ecdsa.PrivateKey
}

func newEnvKey(t testing.TB, id string) envTestKey {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	text, err := credentials.EncodeSEC1PEM(ec)
	if err != nil {
		t.Fatal(err)
	}
	return envTestKey{
		name:        "organizations/2d8b1c7e-0c4f-4b6a-9a51-3f1e2d4c5b6a/apiKeys/" + id,
		pem:         text,
		fingerprint: credentials.Fingerprint(ec.Public()),
		ec:          ec,
	}
}

// expand fills in a template: «N» and «K» are the variable names, «name» the key name and «pem»
// the PEM as a double-quoted value.
func (k envTestKey) expand(s string) string {
	return strings.NewReplacer("«N»", envName, "«K»", envKey, "«name»", k.name, "«pem»", doubleQuote(k.pem)).Replace(s)
}

func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // WriteFile's mode is subject to the umask
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestWriteEnvKeyPreservesAnElaborateFile(t *testing.T) {
	k := newEnvKey(t, "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	before := "# waas-proxy-server settings\r\n" +
		"\r\n" +
		"HTTP_ADDRESS=0.0.0.0:8091\r\n" +
		"GRPC_ADDRESS=\"0.0.0.0:8090\"   # gRPC listener\r\n" +
		"\r\n" +
		"    # the API key, rotated by waasctl\r\n" +
		"export COINBASE_CLOUD_API_KEY_NAME='organizations/42a5365b-1d24-4b19-89f5-e9434c1d1f0a/apiKeys/c56a41d7-f37d-4e0f-83ce-6e3247941afe'  # current key\r\n" +
		"COINBASE_CLOUD_API_KEY_PRIVATE_KEY=\"-----BEGIN EC PRIVATE KEY-----\\nOLD\\n-----END EC PRIVATE KEY-----\\n\"\r\n" +
		"  \t\r\n" +
		"MULTI=\"line one\r\nline two\"\r\n" +
		"LITERAL='single $quoted \\n'\r\n" +
		"URL=https://example.com/#anchor # trailing comment\r\n" +
		"EMPTY=\r\n" +
		"not an assignment at all\r\n" +
		"# last line, no newline"
	want := strings.Replace(strings.Replace(before,
		"'organizations/42a5365b-1d24-4b19-89f5-e9434c1d1f0a/apiKeys/c56a41d7-f37d-4e0f-83ce-6e3247941afe'", "'"+k.name+"'", 1),
		`"-----BEGIN EC PRIVATE KEY-----\nOLD\n-----END EC PRIVATE KEY-----\n"`, doubleQuote(k.pem), 1)

	path := filepath.Join(t.TempDir(), ".env")
	writeFile(t, path, before, 0o600)
	changed, err := WriteEnvKey(path, k.name, k.pem)
	if err != nil || !changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	if got := readFile(t, path); got != want {
		t.Fatalf("got:\n%q\nwant:\n%q", got, want)
	}
	name, fp, err := ReadEnvKey(path)
	if err != nil || name != k.name || fp != k.fingerprint {
		t.Fatalf("read back %q %q %v", name, fp, err)
	}
}

func TestWriteEnvKeyEdits(t *testing.T) {
	k := newEnvKey(t, "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	tests := []struct{ name, in, want string }{
		{"empty file", "", "«N»=\"«name»\"\n«K»=«pem»\n"},
		{"appended", "A=1\n", "A=1\n«N»=\"«name»\"\n«K»=«pem»\n"},
		{"appended, no final newline kept", "A=1", "A=1\n«N»=\"«name»\"\n«K»=«pem»"},
		{"appended with CRLF", "A=1\r\nB=2\r\n", "A=1\r\nB=2\r\n«N»=\"«name»\"\r\n«K»=«pem»\r\n"},
		{"export and single quotes", "export «N»='old'\nexport «K»='-----BEGIN x'\n", "export «N»='«name»'\nexport «K»=«pem»\n"},
		{"spacing and comments", "«N» = old # the key\n«K» =\t\"x\"  # secret\n", "«N» = «name» # the key\n«K» =\t«pem»  # secret\n"},
		{"every copy", "«N»=a\n«K»=b\nX=1\n«N»=c\n", "«N»=«name»\n«K»=«pem»\nX=1\n«N»=«name»\n"},
		{"key added after the name", "«N»=a\nX=1\n", "«N»=«name»\n«K»=«pem»\nX=1\n"},
		{"name added before the key", "X=1\n«K»=b\nY=2\n", "X=1\n«N»=\"«name»\"\n«K»=«pem»\nY=2\n"},
		{"key added after a last line", "X=1\r\n«N»=a", "X=1\r\n«N»=«name»\r\n«K»=«pem»"},
		{"multi-line key collapsed", "A=1\n«K»=\"-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n\"\nB=2\n",
			"A=1\n«N»=\"«name»\"\n«K»=«pem»\nB=2\n"},
		{"look-alike inside another value", "NOTE=\"for example:\n«N»=not-this-one\n\"\n", "NOTE=\"for example:\n«N»=not-this-one\n\"\n«N»=\"«name»\"\n«K»=«pem»\n"},
		{"commented out", "# «N»=old\n#«K»=old\n", "# «N»=old\n#«K»=old\n«N»=\"«name»\"\n«K»=«pem»\n"},
		{"yaml style", "«N»: old\n", "«N»: «name»\n«K»=«pem»\n"},
		{"escaped quote inside", "«K»=\"a\\\"b\" # c\n«N»=x\n", "«K»=«pem» # c\n«N»=«name»\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env")
			writeFile(t, path, k.expand(tt.in), 0o600)
			changed, err := WriteEnvKey(path, k.name, k.pem)
			if err != nil || !changed {
				t.Fatalf("changed %v, %v", changed, err)
			}
			if got, want := readFile(t, path), k.expand(tt.want); got != want {
				t.Fatalf("got:\n%q\nwant:\n%q", got, want)
			}
			if name, fp, err := ReadEnvKey(path); err != nil || name != k.name || fp != k.fingerprint {
				t.Fatalf("read back %q %q %v", name, fp, err)
			}
		})
	}
}

func TestWriteEnvKeyIsIdempotent(t *testing.T) {
	k := newEnvKey(t, "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	path := filepath.Join(t.TempDir(), ".env")
	writeFile(t, path, "A=1\n# keep me\n", 0o600)
	if changed, err := WriteEnvKey(path, k.name, k.pem); err != nil || !changed {
		t.Fatalf("first write: %v %v", changed, err)
	}
	content := readFile(t, path)
	before, _ := os.Stat(path)

	// The same key again, also handed over as PKCS#8 or with escaped newlines: nothing to do.
	der, err := x509.MarshalPKCS8PrivateKey(k.ec)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	for _, same := range []string{k.pem, pkcs8, strings.ReplaceAll(k.pem, "\n", `\n`)} {
		changed, err := WriteEnvKey(path, k.name, same)
		if err != nil || changed {
			t.Fatalf("same key again: changed %v, %v", changed, err)
		}
	}
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) || readFile(t, path) != content {
		t.Fatal("the file was rewritten although nothing changed")
	}

	k2 := newEnvKey(t, "1a2b6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	if changed, err := WriteEnvKey(path, k2.name, k2.pem); err != nil || !changed {
		t.Fatalf("a new key: %v %v", changed, err)
	}
	if name, fp, _ := ReadEnvKey(path); name != k2.name || fp != k2.fingerprint {
		t.Fatalf("read back %q %q", name, fp)
	}
}

func TestWriteEnvKeyMode(t *testing.T) {
	k := newEnvKey(t, "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	dir := t.TempDir()
	fresh := filepath.Join(dir, "new.env")
	if _, err := WriteEnvKey(fresh, k.name, k.pem); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file mode %v", fi.Mode().Perm())
	}
	for _, tt := range []struct{ before, after os.FileMode }{
		{0o644, 0o600}, {0o640, 0o600}, {0o666, 0o600}, {0o600, 0o600}, {0o400, 0o400},
	} {
		path := filepath.Join(dir, tt.before.String()+".env")
		writeFile(t, path, "A=1\n", tt.before)
		if _, err := WriteEnvKey(path, k.name, k.pem); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != tt.after {
			t.Errorf("mode %v became %v, want %v", tt.before, fi.Mode().Perm(), tt.after)
		}
	}
	// Content already right but readable by all: tightened, yet nothing "changed".
	if err := os.Chmod(fresh, 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := WriteEnvKey(fresh, k.name, k.pem)
	if fi, _ := os.Stat(fresh); err != nil || changed || fi.Mode().Perm() != 0o600 {
		t.Fatalf("changed %v, mode %v, %v", changed, fi.Mode().Perm(), err)
	}
}

// A .env that is a symlink is refused unless the sink says follow_symlinks: true: the link may
// lead to a file someone else can read.
func TestWriteEnvKeyRefusesASymlinkUnlessTold(t *testing.T) {
	k := newEnvKey(t, "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	dir := t.TempDir()
	real := filepath.Join(dir, "secrets", "waas.env")
	if err := os.Mkdir(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, real, "A=1\n", 0o640)
	link := filepath.Join(dir, ".env")
	if err := os.Symlink(filepath.Join("secrets", "waas.env"), link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	for _, err := range []error{
		func() error { _, err := WriteEnvKey(link, k.name, k.pem); return err }(),
		func() error { _, _, err := ReadEnvKey(link); return err }(),
		(&EnvfileSink{Path: link}).Preflight(),
	} {
		if err == nil || !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "follow_symlinks: true") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("err = %v", err)
		}
	}
	if got := readFile(t, real); got != "A=1\n" {
		t.Fatalf("written through the link: %q", got)
	}

	// Told to, it replaces the file the link leads to, keeps the link, and keeps the target's
	// mode when stricter than 0600 (here 0640 becomes 0600: never looser than 0600).
	follow := EnvfileOptions{FollowSymlinks: true}
	if err := (&EnvfileSink{Path: link, Options: follow}).Preflight(); err != nil {
		t.Fatal(err)
	}
	if _, err := writeEnvKey(link, k.name, k.pem, follow); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if name, fp, err := readEnvKey(link, follow); err != nil || name != k.name || fp != k.fingerprint {
		t.Fatalf("through the link: %q %q %v", name, fp, err)
	}
	if !strings.HasPrefix(readFile(t, real), "A=1\n"+envName) {
		t.Fatalf("real file: %q", readFile(t, real))
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Fatalf("target mode %v", fi.Mode().Perm())
	}

	dangling := filepath.Join(dir, "dangling.env")
	_ = os.Symlink("nowhere.env", dangling)
	if _, err := writeEnvKey(dangling, k.name, k.pem, follow); err == nil || !strings.Contains(err.Error(), "leads to no file") {
		t.Fatalf("dangling link: %v", err)
	}
}

// A .env of another user used to get the key and stay theirs: now it is refused unless the
// sink says allow_other_owner: true, and then the file is given back to them.
func TestWriteEnvKeyRefusesAnotherUsersFileUnlessTold(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to hand a file to another user")
	}
	k := newEnvKey(t, "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	path := filepath.Join(t.TempDir(), ".env")
	writeFile(t, path, "A=1\n", 0o600)
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		func() error { _, err := WriteEnvKey(path, k.name, k.pem); return err }(),
		(&EnvfileSink{Path: path}).Preflight(),
	} {
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "belongs to uid 65534") || !strings.Contains(err.Error(), "allow_other_owner: true") {
			t.Fatalf("err = %v", err)
		}
	}
	if got := readFile(t, path); got != "A=1\n" {
		t.Fatalf("written: %q", got)
	}

	// Through a symlink that is allowed, the target's owner still counts.
	link := filepath.Join(t.TempDir(), ".env")
	os.Symlink(path, link)
	if _, err := writeEnvKey(link, k.name, k.pem, EnvfileOptions{FollowSymlinks: true}); err == nil || !strings.Contains(err.Error(), "allow_other_owner") {
		t.Fatalf("through a link: %v", err)
	}

	if _, err := writeEnvKey(path, k.name, k.pem, EnvfileOptions{AllowOtherOwner: true}); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if uid, gid, ok := fileOwner(fi); !ok || uid != 65534 || gid != 65534 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("owner %d:%d mode %v", uid, gid, fi.Mode().Perm())
	}
}

func TestWriteEnvKeyRefuses(t *testing.T) {
	k := newEnvKey(t, "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	edText := credentials.EncodeEd25519(ed)
	garbage := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIGarbageGarbageGarbageGarbage\n-----END EC PRIVATE KEY-----\n"
	dir := t.TempDir()
	tests := []struct {
		name, content, keyName, key, want string
	}{
		{"unclosed quote", "A=1\nB=\"open\nC=2\n", k.name, k.pem, "line 2: a quoted value is never closed; fix it by hand"},
		{"bad key name", "A=1\n", "not a key name", k.pem, "key name (14 characters) is not organizations/{org-uuid}/apiKeys/{key-uuid}"},
		{"Ed25519 key", "A=1\n", k.name, edText, "needs an ECDSA P-256 key"},
		{"corrupt key", "A=1\n", k.name, garbage, "truncated or corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			writeFile(t, path, tt.content, 0o600)
			changed, err := WriteEnvKey(path, tt.keyName, tt.key)
			if err == nil || changed || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("changed %v, %v", changed, err)
			}
			assertNoSecret(t, err.Error(), tt.key)
			if readFile(t, path) != tt.content {
				t.Fatal("the file was changed")
			}
		})
	}
	if _, err := WriteEnvKey(dir, k.name, k.pem); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a folder: %v", err)
	}
	if _, err := WriteEnvKey(filepath.Join(dir, "no", "such", ".env"), k.name, k.pem); err == nil {
		t.Fatal("wrote into a missing folder")
	}
}

func TestReadEnvKey(t *testing.T) {
	k1 := newEnvKey(t, "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	k2 := newEnvKey(t, "1a2b6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	dir := t.TempDir()
	if name, fp, err := ReadEnvKey(filepath.Join(dir, "missing.env")); name != "" || fp != "" || err != nil {
		t.Fatalf("missing file: %q %q %v", name, fp, err)
	}
	tests := []struct{ name, content, wantName, wantFP, wantErr string }{
		{"no key", "A=1\n", "", "", ""},
		{"name only", envName + "=" + k1.name + "\n", k1.name, "", ""},
		{"the last assignment wins", envKey + "=" + doubleQuote(k1.pem) + "\n" + envKey + "=" + doubleQuote(k2.pem) + "\n", "", k2.fingerprint, ""},
		{"real newlines in double quotes", envKey + "=\"" + k1.pem + "\"\n", "", k1.fingerprint, ""},
		{"not a key", envName + "=" + k1.name + "\n" + envKey + "=\"MHcCAQEEIGarbageGarbage\"\n", k1.name, "", envKey + ": "},
		{"unparsable", "A='open\n", "", "", "line 1"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
		writeFile(t, path, tt.content, 0o600)
		name, fp, err := ReadEnvKey(path)
		if name != tt.wantName || fp != tt.wantFP || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %q %q %v", tt.name, name, fp, err)
		}
		if err != nil && strings.Contains(err.Error(), "Garbage") {
			t.Errorf("%s: the error quotes the file: %v", tt.name, err)
		}
	}
}

// What WriteEnvKey writes is what the proxy reads: checked with credentials.ParseKeyInput and
// with a minimal godotenv-style reader written independently of the package's parser.
func TestWrittenEnvReadsBackLikeGodotenv(t *testing.T) {
	k := newEnvKey(t, "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	path := filepath.Join(t.TempDir(), ".env")
	writeFile(t, path, "# proxy\nHTTP_ADDRESS=0.0.0.0:8091\n", 0o600)
	if _, err := WriteEnvKey(path, k.name, k.pem); err != nil {
		t.Fatal(err)
	}
	data := []byte(readFile(t, path))

	key, err := credentials.ParseKeyInput(data, "test")
	if err != nil || key.Name != k.name || key.Fingerprint != k.fingerprint {
		t.Fatalf("ParseKeyInput: %v, %v", key, err)
	}

	vars := miniDotenv(string(data))
	if vars[envName] != k.name || vars[envKey] != k.pem || vars["HTTP_ADDRESS"] != "0.0.0.0:8091" {
		t.Fatalf("godotenv-style reading: %q", vars)
	}
	// The PEM is exactly what the official client loads: SEC1, real newlines.
	if block, _ := pem.Decode([]byte(vars[envKey])); block == nil || block.Type != "EC PRIVATE KEY" {
		t.Fatal("not a SEC1 PEM once read")
	}
}

// miniDotenv reads one-line KEY=VALUE assignments the way godotenv does: "export " dropped,
// \n expanded in double quotes only.
func miniDotenv(s string) map[string]string {
	vars := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch {
		case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
			v = strings.ReplaceAll(v[1:len(v)-1], `\n`, "\n")
		case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
			v = v[1 : len(v)-1]
		}
		vars[strings.TrimSpace(k)] = v
	}
	return vars
}

func FuzzEnvFile(f *testing.F) {
	k := newEnvKey(f, "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b")
	for _, seed := range []string{
		"", "A=1", "A=1\r\n", "export " + envName + "='x' # c\n" + envKey + "=\"y\"\n",
		"A=\"multi\nline\"\n" + envKey + "=z", "# " + envName + "=x\n", "B='open\n", "x=\"a\\\"b\"\n",
		"\r\n\r\n", "K: v\n", "=\n", "export\texport=1\n", envName + "=\n" + envName + "=a # b # c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := parseEnv(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") || !strings.HasSuffix(err.Error(), ": "+errUnclosedQuote.Error()) {
				t.Fatalf("error %q", err)
			}
			return
		}
		// Parsing loses nothing.
		if got := renderEnv(entries); got != s {
			t.Fatalf("render(parse(s)) = %q", got)
		}
		// Setting the key parses back to the key, leaves every other entry alone, and is
		// idempotent.
		out := renderEnv(setEnvKey(entries, k.name, k.pem))
		again, err := parseEnv(out)
		if err != nil {
			t.Fatalf("the edited file does not parse: %v\n%q", err, out)
		}
		if lookupEnv(again, envName) != k.name || lookupEnv(again, envKey) != k.pem {
			t.Fatalf("edited file reads %q / %q", lookupEnv(again, envName), lookupEnv(again, envKey))
		}
		if a, b := others(entries), others(again); !sameOthers(a, b) {
			t.Fatalf("other entries changed:\n%q\n%q", a, b)
		}
		if twice := renderEnv(setEnvKey(again, k.name, k.pem)); twice != out {
			t.Fatalf("not idempotent:\n%q\n%q", out, twice)
		}
	})
}

// others lists the entries that are not the key's.
func others(entries []envEntry) []envEntry {
	var out []envEntry
	for _, e := range entries {
		if e.key != envName && e.key != envKey {
			out = append(out, e)
		}
	}
	return out
}

// sameOthers compares entries before and after an edit. Only a last line without a line ending
// may change, by gaining one when something is appended after it.
func sameOthers(before, after []envEntry) bool {
	if len(before) != len(after) {
		return false
	}
	for i, b := range before {
		a := after[i]
		was, is := b.text(), a.text()
		if a.key != b.key || is != was && (b.eol != "" || is != was+"\n" && is != was+"\r\n") {
			return false
		}
	}
	return true
}

// TestUnquoteEnvValues: the value a sink reads back from a dotenv file, for
// each quoting; a value too short to be quoted is taken as it is.
func TestUnquoteEnvValues(t *testing.T) {
	for in, want := range map[string]string{
		`""`:        "",
		`''`:        "",
		`"`:         `"`,
		`'`:         `'`,
		`ab`:        "ab",
		`"a"`:       "a",
		`'a\nb'`:    `a\nb`,
		`"a\nb"`:    "a\nb",
		`"a'`:       `"a'`,
		`plain "q"`: `plain "q"`,
	} {
		if got := unquoteEnv(in); got != want {
			t.Errorf("unquoteEnv(%s) = %q, want %q", in, got, want)
		}
	}
}
