package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAFileGrowingDuringTheScanIsReadAsOpened: a file written to while it is scanned (a log)
// was read until EOF, which a writer faster than the scan never lets come. What the file held
// when it was opened is scanned; what is appended after is not.
func TestAFileGrowingDuringTheScanIsReadAsOpened(t *testing.T) {
	k := newP256(t)
	later := newP256(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	write(t, path, []byte(k.sec1+strings.Repeat("a log line\n", 1000)))
	appended := false
	opts := Options{Workers: 1, Progress: func(int64) {
		if appended {
			return
		}
		appended = true
		// The file is open and its first bytes read: it grows by 8 MiB and a key.
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		f.WriteString(strings.Repeat("more log\n", (8<<20)/9) + later.sec1)
	}}
	res := New(opts).Scan(context.Background(), []string{path})
	if !appended {
		t.Fatal("the file was not grown during the scan")
	}
	if len(res.Findings) != 1 || res.Findings[0].Fingerprint != k.fp {
		t.Fatalf("found %+v, want only the key the file held when opened", res.Findings)
	}
	if res.Bytes > 64<<10 {
		t.Fatalf("%d bytes read: past the size at open", res.Bytes)
	}
}
