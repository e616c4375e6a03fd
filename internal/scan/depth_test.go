package scan

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --max-archive-depth N opens archives N levels deep, whatever holds the outermost one: 0
// opens none (each is an error record, the scan incomplete); gzip is a layer, not a level.
func TestMaxArchiveDepth(t *testing.T) {
	k := newP256(t)
	key := member{"key.pem", []byte(k.sec1)}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(k.sec1))
	zw.Close()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.zip"), zipOf(t, key))
	write(t, filepath.Join(dir, "nested.zip"), zipOf(t, member{"inner.zip", zipOf(t, key)}))
	write(t, filepath.Join(dir, "b.tar.gz"), tarGzOf(t, key))
	write(t, filepath.Join(dir, "k.pem.gz"), gz.Bytes())
	for _, c := range []struct {
		depth          int
		found, notOpen string
	}{
		{0, "k.pem.gz", "app.zip b.tar.gz nested.zip"},
		{1, "app.zip!key.pem b.tar.gz!key.pem k.pem.gz", "nested.zip!inner.zip"},
		{2, "app.zip!key.pem b.tar.gz!key.pem k.pem.gz nested.zip!inner.zip!key.pem", ""},
	} {
		t.Run(string(rune('0'+c.depth)), func(t *testing.T) {
			limits := DefaultLimits
			limits.MaxArchiveDepth = c.depth
			wd, _ := os.Getwd()
			os.Chdir(dir)
			defer os.Chdir(wd)
			res := New(Options{Limits: limits}).Scan(context.Background(), []string{"app.zip", "b.tar.gz", "k.pem.gz", "nested.zip"})
			var errs []string
			for _, e := range res.Errors {
				if !strings.Contains(e.Reason, "not opened") {
					t.Fatalf("error %+v", e)
				}
				errs = append(errs, e.Path)
			}
			if got := strings.Join(paths(res.Findings), " "); got != c.found || strings.Join(errs, " ") != c.notOpen {
				t.Fatalf("found %q, not opened %q; want %q and %q", got, errs, c.found, c.notOpen)
			}
		})
	}
}
