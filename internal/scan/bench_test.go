package scan

import (
	"context"
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

// BenchmarkDetect measures Detect alone on real source text, one core. cpu-ms/op is the CPU
// time of the benchmark's thread (Linux only), which other jobs on a shared machine disturb
// far less than ns/op: compare two commits by it.
func BenchmarkDetect(b *testing.B) {
	data := sourceCorpus(b, 32<<20)
	b.SetBytes(int64(len(data)))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	start, ok := cpuTime(false)
	n := 0
	for b.Loop() {
		Detect(data, false)
		n++
	}
	if end, _ := cpuTime(false); ok {
		b.ReportMetric(float64(end-start)/1e6/float64(n), "cpu-ms/op")
	}
}

// BenchmarkScanFolder scans the folder SCAN_CORPUS names (a corpus of scripts/bench/scan-corpus,
// its truth.json moved out) as `waasctl scan` does, with all cores: the whole scan (walk,
// open, read, archives, detection) under -cpuprofile. cpu-ms/op is the process's CPU time.
//
//	go run ./scripts/bench/scan-corpus gen -out /tmp/corpus -filler $(go env GOROOT)/src -per 6
//	mv /tmp/corpus/truth.json /tmp/truth.json
//	SCAN_CORPUS=/tmp/corpus go test ./internal/scan -run '^$' -bench ScanFolder -benchtime 10x -cpuprofile /tmp/scan.prof
func BenchmarkScanFolder(b *testing.B) {
	dir := os.Getenv("SCAN_CORPUS")
	if dir == "" {
		b.Skip("SCAN_CORPUS is not set")
	}
	start, ok := cpuTime(true)
	n := 0
	var scanned int64
	for b.Loop() {
		res := New(Options{}).Scan(context.Background(), []string{dir})
		scanned = res.Bytes
		n++
	}
	b.SetBytes(scanned)
	if end, _ := cpuTime(true); ok {
		b.ReportMetric(float64(end-start)/1e6/float64(n), "cpu-ms/op")
	}
}
