// Command heapprofile is waasctl with a heap profile taken at its largest live heap, to see what
// the memory of a reconciliation (or any command) is made of without touching waasctl itself:
//
//	go build -o /tmp/waasctl-heap ./scripts/bench/reconcile/heapprofile
//	WAASCTL_HEAPPROFILE=/tmp/heap.out /tmp/waasctl-heap audit resources ... >/dev/null
//	go tool pprof -sample_index=inuse_space -top /tmp/waasctl-heap /tmp/heap.out
//
// scripts/bench/reconcile takes it as -waasctl (the variable passes through). It takes waasctl's
// arguments unchanged; every 10 ms it reads the live heap the last garbage collection left and,
// when that is the largest so far, rewrites the profile (whose in-use figures are also as of the
// last collection). On exit it prints the largest live heap and the runtime's peak figures to
// stderr. Without WAASCTL_HEAPPROFILE it is waasctl.
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/waasctl/waasctl/internal/cli"
)

func main() {
	path := os.Getenv("WAASCTL_HEAPPROFILE")
	if path == "" {
		os.Exit(cli.Main())
	}
	var (
		mu       sync.Mutex
		maxLive  uint64
		atLive   time.Duration
		start    = time.Now()
		stop     = make(chan struct{})
		done     = make(chan struct{})
		samples  = []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
		lastGC   uint64
		snapshot bytes.Buffer
	)
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			metrics.Read(samples)
			live, gcs := samples[0].Value.Uint64(), samples[1].Value.Uint64()
			if gcs == lastGC {
				continue
			}
			lastGC = gcs
			mu.Lock()
			if live > maxLive {
				maxLive, atLive = live, time.Since(start)
				snapshot.Reset()
				_ = pprof.Lookup("heap").WriteTo(&snapshot, 0)
			}
			mu.Unlock()
		}
	}()
	code := cli.Main()
	close(stop)
	<-done
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mu.Lock()
	err := os.WriteFile(path, snapshot.Bytes(), 0o644)
	fmt.Fprintf(os.Stderr, "heapprofile: largest live heap %.1f MiB at %.2f s; heap from the OS %.1f MiB, runtime total from the OS (Sys) %.1f MiB; %d GCs\n",
		float64(maxLive)/(1<<20), atLive.Seconds(), float64(ms.HeapSys)/(1<<20), float64(ms.Sys)/(1<<20), ms.NumGC)
	mu.Unlock()
	if err != nil {
		fmt.Fprintln(os.Stderr, "heapprofile:", err)
		os.Exit(1)
	}
	os.Exit(code)
}
