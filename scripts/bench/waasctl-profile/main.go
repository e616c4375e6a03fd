// Command waasctl-profile runs waasctl in-process under the CPU profiler, to
// see where a benchmark's time goes without touching waasctl itself:
//
//	go build -o /tmp/waasctl-profile ./scripts/bench/waasctl-profile
//	WAASCTL_CPUPROFILE=/tmp/cpu.out /tmp/waasctl-profile wallets list --all -o jsonl ... >/dev/null
//	go tool pprof -top /tmp/waasctl-profile /tmp/cpu.out
//
// It takes waasctl's arguments unchanged. Without WAASCTL_CPUPROFILE it is
// waasctl.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/waasctl/waasctl/internal/cli"
)

func main() {
	path := os.Getenv("WAASCTL_CPUPROFILE")
	if path == "" {
		os.Exit(cli.Main())
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "waasctl-profile:", err)
		os.Exit(1)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "waasctl-profile:", err)
		os.Exit(1)
	}
	code := cli.Main()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "waasctl-profile:", err)
		os.Exit(1)
	}
	os.Exit(code)
}
