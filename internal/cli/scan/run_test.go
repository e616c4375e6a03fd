package scan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// keyFolder is a folder holding one P-256 key file.
func keyFolder(t *testing.T) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(k)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runScan(t *testing.T, opts *Options, format cmdutil.OutputFormat) (string, string, error) {
	t.Helper()
	ios, _, stdout, stderr := iostreams.Test()
	opts.IO, opts.NoKeyring = ios, true
	opts.Output = func() cmdutil.OutputFormat { return format }
	if opts.MaxDepth == 0 {
		opts.MaxDepth = 4
	}
	err := run(t.Context(), opts)
	return stdout.String(), stderr.String(), err
}

func exitCode(err error) int {
	var ee *cmdutil.ExitError
	var fe *cmdutil.FlagError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &fe):
		return cmdutil.ExitUsage
	}
	return cmdutil.ExitFailure
}

// An unwritable --sarif path is refused before anything is scanned.
func TestSARIFPathUnwritableFailsFirst(t *testing.T) {
	dir := keyFolder(t)
	out, _, err := runScan(t, &Options{Paths: []string{dir}, SARIF: filepath.Join(dir, "no-such-folder", "r.sarif")}, cmdutil.OutputJSONL)
	if exitCode(err) != cmdutil.ExitUsage || out != "" || !strings.Contains(err.Error(), "--sarif") {
		t.Fatalf("exit %d, err %v, stdout %q: want a usage error before scanning", exitCode(err), err, out)
	}
}

// A SARIF report that cannot be written after the scan does not lose the findings.
func TestSARIFWriteFailureKeepsTheFindings(t *testing.T) {
	dir := keyFolder(t)
	saved := writeSARIF
	writeSARIF = func(string, []byte, os.FileMode) error { return errors.New("disk full") }
	defer func() { writeSARIF = saved }()
	out, errOut, err := runScan(t, &Options{Paths: []string{dir}, SARIF: filepath.Join(dir, "r.sarif")}, cmdutil.OutputJSONL)
	if exitCode(err) != cmdutil.ExitFindings || !strings.Contains(out, `"type":"finding"`) || !strings.Contains(errOut, "disk full") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want the findings printed, the failure said, exit 3", exitCode(err), out, errOut)
	}
}
