package scan

import (
	"archive/zip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
)

// fixedP256PEM is a P-256 key in SEC1 PEM that is the same on every run: its scalar is the
// SHA-256 of label (a valid scalar for any label a test would use).
func fixedP256PEM(t *testing.T, label string) string {
	t.Helper()
	d := sha256.Sum256([]byte("waasctl golden scan " + label))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// plantScanTree copies testdata/scan-tree into a fresh folder with its @@NAME@@ placeholders
// replaced by keys made here (so no key file is ever committed), zips testdata/scan-app into
// build/payments.apk there, and makes that folder the current one, so that paths print the
// same on every machine. Placed: the keyring profile prod's current key (live), a P-256 key no
// profile holds, a key inside the app package, an allowed test fixture, and a placeholder.
func plantScanTree(t *testing.T, live *credentials.StoredKey) {
	t.Helper()
	escaped := func(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }
	values := map[string]string{
		"@@LIVE_ED25519@@":         live.PrivateKey,
		"@@OLD_P256_PEM_ESCAPED@@": escaped(fixedP256PEM(t, "old")),
		"@@FIXTURE_P256_PEM@@":     strings.TrimSuffix(fixedP256PEM(t, "fixture"), "\n"),
		"@@APP_P256_PEM_ESCAPED@@": escaped(fixedP256PEM(t, "app")),
	}
	fill := func(data []byte) []byte {
		s := string(data)
		for k, v := range values {
			s = strings.ReplaceAll(s, k, v)
		}
		return []byte(s)
	}
	src, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	tree := os.DirFS(filepath.Join(src, "scan-tree"))
	err = fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if err == nil {
				err = os.MkdirAll(p, 0o700)
			}
			return err
		}
		data, err := fs.ReadFile(tree, p)
		if err != nil {
			return err
		}
		return os.WriteFile(p, fill(data), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir("build", 0o700); err != nil {
		t.Fatal(err)
	}
	apk, err := os.Create(filepath.Join("build", "payments.apk"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(apk)
	app := os.DirFS(filepath.Join(src, "scan-app"))
	err = fs.WalkDir(app, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(app, p)
		if err != nil {
			return err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p, Method: zip.Deflate, Modified: clitest.FixedNow})
		if err != nil {
			return err
		}
		_, err = w.Write(fill(data))
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = apk.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestScanGolden: what scan prints of a small project with the keyring profile prod's current
// key in a .env file (live, with the command that replaces it), a key no profile holds, a key in
// an app package, and an allowed test fixture (listed as suppressed under --verbose); a
// placeholder key in the README is not reported. Exit 3 in every format.
func TestScanGolden(t *testing.T) {
	live := clitest.FixedKey(t, 1, clitest.FixedNow.Add(-24*time.Hour), "")
	store := credentials.NewMemoryStore()
	if err := store.Put(testctx.New(t), &credentials.Item{Profile: "prod", Current: live}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		terminal bool
		format   cmdutil.OutputFormat
		sarif    string
	}{
		{"scan_tty", true, "", ""},
		{"scan_nontty", false, "", ""},
		{"scan_json", false, cmdutil.OutputJSON, ""},
		{"scan_jsonl", false, cmdutil.OutputJSONL, ""},
		// The SARIF log carries no tool version (its driver is named, not versioned), so it is
		// compared byte for byte too.
		{"scan_sarif", false, "", "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plantScanTree(t, live)
			ios, _, stdout, stderr := iostreams.Test()
			if tc.terminal {
				ios.SetStdoutTTY(true)
				ios.SetTerminalWidth(120)
			}
			opts := &Options{
				IO:       ios,
				Keyring:  func() (credentials.Store, error) { return store, nil },
				Output:   func() cmdutil.OutputFormat { return tc.format },
				Paths:    []string{"."},
				SARIF:    tc.sarif,
				Verbose:  true,
				MaxDepth: 4,
			}
			if err := run(testctx.New(t), opts); exitCode(err) != cmdutil.ExitFindings {
				t.Fatalf("exit %d (%v), want %d", exitCode(err), err, cmdutil.ExitFindings)
			}
			clitest.Golden(t, tc.name+".golden", stdout.String())
			clitest.Golden(t, tc.name+".stderr.golden", stderr.String())
		})
	}
}
