package scan

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// sourceCorpus is real source text (Go's own standard library), up to n bytes.
func sourceCorpus(b *testing.B, n int) []byte { return sourceCorpusT(b, n) }

func sourceCorpusT(b testing.TB, n int) []byte {
	b.Helper()
	buf := make([]byte, 0, n)
	root := filepath.Join(runtime.GOROOT(), "src")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || len(buf) >= n {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			if data, err := os.ReadFile(p); err == nil {
				buf = append(buf, data...)
			}
		}
		return nil
	})
	if len(buf) < n/2 {
		b.Skip("not enough source text under GOROOT")
	}
	return buf[:min(len(buf), n)]
}

// BenchmarkDetect measures Detect alone on real source text, one core.
func BenchmarkDetect(b *testing.B) {
	data := sourceCorpus(b, 32<<20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		Detect(data, false)
	}
}
