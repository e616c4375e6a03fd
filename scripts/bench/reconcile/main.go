// Command reconcile measures `waasctl audit resources` and `waasctl audit operations` on a
// sandbox estate (by default 1,000,000 wallets in 100,000 device groups) against a ledger in
// PostgreSQL, and against a CSV ledger of the same estate for comparison: wall time, waasctl's
// peak RSS, the requests the sandbox served, and the bound the sandbox's rate limit sets.
// Results and their interpretation: docs/benchmarks.md, "Reconciliation at scale".
//
//	scripts/bench/reconcile.sh [FLAGS]    # builds bin/waasctl, runs this under scripts/with-postgres.sh
//
// What it does, in one process:
//
//  1. seeds a sandbox in-process (sandbox.New) and serves it on 127.0.0.1, behind a handler that
//     counts the requests it answers (and the 429s among them); creates an API key and writes it
//     as a {"name","privateKey"} key file;
//  2. loads the estate, as the middle tier would have recorded it (srv.Inventory()), into a new
//     PostgreSQL database (sandboxtest.CreateLedgerPostgres) and into a CSV file
//     (sandboxtest.WriteLedgerCSV), timing both;
//  3. plays an adversary with the same key (sandboxtest.Plant, through Coinbase's own client):
//     -plant-wallets wallets, each in a new device group, and -plant-signatures pending
//     CreateSignature operations on existing groups;
//  4. runs the waasctl binary as a child process, under GNU time, for each ledger and each audit,
//     with --ledger, --ledger-query KIND=SQL (sandboxtest.LedgerQueries), -o json, --concurrency
//     and --rate; checks that exactly the planted resources (and nothing missing), or exactly the
//     planted operations, are reported, with exit code 3, and that the counts match the estate;
//  5. prints one Markdown table row per run: wall time; how long waasctl had no request in
//     flight (before its first, after its last, and pauses of 100 ms or more: reading the
//     ledger); peak RSS; waasctl's CPU and the sandbox's (this process's) meanwhile; requests
//     counted, and expected from the shape; requests / the rate limit, and the time over that.
//
// Peak RSS comes from GNU time (%M), not from the rusage Go's os/exec returns: Go starts a child
// with vfork, and when the child execs, Linux records the high-water RSS of the memory it shared
// with its parent (this process, sandbox and all, gigabytes) as the child's ru_maxrss. GNU time
// starts its child with fork from a process of about a megabyte, so its %M is waasctl's own.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

type options struct {
	pools, walletsPerPool, walletsPerGroup, opsPerGroup int
	seed                                                int64
	rateLimit                                           sandbox.RateLimit
	waasctl, gnuTime, pg, dbName                        string
	plantWallets, plantSignatures                       int
	concurrency                                         int
	rate                                                float64
	runs                                                int
	csv, keep                                           bool
	only                                                string
	childGODEBUG                                        string
	waasctlRev                                          string
	timeout                                             time.Duration
}

func main() {
	var o options
	var rl string
	flag.IntVar(&o.pools, "pools", 100, "pools in the sandbox's estate")
	flag.IntVar(&o.walletsPerPool, "wallets-per-pool", 10000, "MPC wallets per pool")
	flag.IntVar(&o.walletsPerGroup, "wallets-per-group", 10, "consecutive wallets of a pool that share a device group")
	flag.IntVar(&o.opsPerGroup, "ops-per-group", 1, "pending CreateSignature operations per device group")
	flag.Int64Var(&o.seed, "seed", 1, "the sandbox's seed")
	flag.StringVar(&rl, "rate-limit", "0", "the sandbox's rate limit, N/PERIOD (e.g. 5000/1s; see sandbox.ParseRateLimit), or 0 for none")
	flag.StringVar(&o.waasctl, "waasctl", "bin/waasctl", "the waasctl binary to measure")
	flag.StringVar(&o.gnuTime, "time", "/usr/bin/time", "GNU time, which measures waasctl's peak RSS (apt-get install time)")
	flag.StringVar(&o.pg, "pg", os.Getenv(sandboxtest.PostgresDSNEnv), "admin DSN of a PostgreSQL server (default $"+sandboxtest.PostgresDSNEnv+", as scripts/with-postgres.sh exports it)")
	flag.StringVar(&o.dbName, "db", "waasctl_bench_reconcile", "the ledger database to create (replaced if it exists, dropped at the end)")
	flag.IntVar(&o.plantWallets, "plant-wallets", 10, "wallets the adversary creates, each in a new device group")
	flag.IntVar(&o.plantSignatures, "plant-signatures", 100, "CreateSignature operations the adversary leaves pending")
	flag.IntVar(&o.concurrency, "concurrency", waas.DefaultConcurrency, "waasctl --concurrency")
	flag.Float64Var(&o.rate, "rate", -1, "waasctl --rate (default: the sandbox's rate limit per second, or 0, unlimited, without one)")
	flag.IntVar(&o.runs, "runs", 1, "runs of each audit against each ledger")
	flag.BoolVar(&o.csv, "csv", true, "also audit against a CSV ledger of the same estate")
	flag.StringVar(&o.only, "only", "resources,operations", "which audits to run, comma-separated")
	flag.StringVar(&o.childGODEBUG, "godebug", "", "GODEBUG for waasctl (e.g. gctrace=1: its garbage collections go to the .err files; with -keep)")
	flag.StringVar(&o.waasctlRev, "waasctl-rev", "", "what -waasctl was built from, for the machine line (default: git describe --dirty of the working tree)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (waasctl's outputs, the key, the CSV ledger)")
	flag.DurationVar(&o.timeout, "timeout", time.Hour, "give up on one waasctl run after this long")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: reconcile [flags] (see -h)")
		os.Exit(2)
	}
	if rl != "" && rl != "0" {
		var err error
		if o.rateLimit, err = sandbox.ParseRateLimit(rl); err != nil {
			fmt.Fprintln(os.Stderr, "reconcile:", err)
			os.Exit(2)
		}
	}
	if o.rate < 0 {
		o.rate = 0
		if o.rateLimit.N > 0 {
			o.rate = float64(o.rateLimit.N) / o.rateLimit.Per.Seconds()
		}
	}
	if o.pools < 1 || o.walletsPerPool < 1 || o.runs < 1 || o.plantWallets < 0 || o.plantSignatures < 0 {
		fmt.Fprintln(os.Stderr, "reconcile: -pools, -wallets-per-pool and -runs must be at least 1, the plant counts at least 0")
		os.Exit(2)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "reconcile: error:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "reconcile: "+format+"\n", args...)
}

func run(ctx context.Context, o options) (err error) {
	if o.pg == "" {
		return fmt.Errorf("no PostgreSQL server: pass -pg or set $%s (scripts/bench/reconcile.sh runs this under scripts/with-postgres.sh)", sandboxtest.PostgresDSNEnv)
	}
	if o.waasctl, err = filepath.Abs(o.waasctl); err != nil {
		return err
	}
	if fi, err := os.Stat(o.waasctl); err != nil || fi.IsDir() {
		return fmt.Errorf("-waasctl %s: not a file (go build -o bin/waasctl ./cmd/waasctl)", o.waasctl)
	}
	if _, err := exec.LookPath(o.gnuTime); err != nil {
		return fmt.Errorf("GNU time (%s) is missing: apt-get install time", o.gnuTime)
	}
	tmp, err := os.MkdirTemp("", "waasctl-bench-reconcile.")
	if err != nil {
		return err
	}
	defer func() {
		if o.keep {
			logf("kept %s", tmp)
		} else {
			_ = os.RemoveAll(tmp)
		}
	}()
	machine := machineLine(o.waasctlRev)
	loadStart := loadAvg()
	logf("machine: %s; load average %s", machine, loadStart)

	// ---- the sandbox ----
	shape := sandbox.EstateShape{Pools: o.pools, WalletsPerPool: o.walletsPerPool, WalletsPerGroup: o.walletsPerGroup,
		AddressesPerWallet: 1, OperationsPerGroup: o.opsPerGroup}
	t0 := time.Now()
	srv, err := sandbox.New(sandbox.Config{Seed: o.seed, Shape: shape, RateLimit: o.rateLimit})
	if err != nil {
		return err
	}
	defer srv.Close()
	seedTime := time.Since(t0)
	logf("sandbox seeded in %.1f s: %+v, rate limit %s; this process's RSS %s", seedTime.Seconds(), shape, o.rateLimit, mib(procKiB("self", "VmRSS")))
	key, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "bench-reconcile"})
	if err != nil {
		return err
	}
	keyFile := filepath.Join(tmp, "key.json")
	kf, _ := json.Marshal(map[string]string{"name": key.Name, "privateKey": key.PrivateKey})
	if err := os.WriteFile(keyFile, kf, 0o600); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	counted := &counter{h: srv}
	hs := &http.Server{Handler: counted, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	baseURL := sandbox.BaseURL(ln.Addr())
	logf("sandbox at %s", baseURL)

	// ---- the ledgers, before the adversary acts ----
	inv := srv.Inventory()
	est := estate{pools: len(inv.Pools), wallets: len(inv.Wallets), groups: len(inv.DeviceGroups), ops: len(inv.Operations)}
	rows := est.wallets + est.groups + est.ops
	logf("estate: %d pools, %d wallets, %d device groups, %d pending operations", est.pools, est.wallets, est.groups, est.ops)
	t0 = time.Now()
	pgDSN, err := sandboxtest.CreateLedgerPostgres(ctx, o.pg, o.dbName, inv)
	if err != nil {
		return err
	}
	pgLoad := time.Since(t0)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sandboxtest.DropLedgerPostgres(ctx, o.pg, o.dbName); err != nil {
			logf("dropping database %s: %v", o.dbName, err)
		}
	}()
	pgSize := pgDatabaseSize(ctx, pgDSN)
	logf("PostgreSQL ledger: %d rows loaded in %.1f s (CreateLedgerPostgres: COPY into 3 tables, no indexes); database size %s", rows, pgLoad.Seconds(), pgSize)
	var csvPath string
	var csvLoad time.Duration
	var csvSize int64
	if o.csv {
		csvPath = filepath.Join(tmp, "ledger.csv")
		t0 = time.Now()
		if err := writeCSV(csvPath, inv); err != nil {
			return err
		}
		csvLoad = time.Since(t0)
		if fi, err := os.Stat(csvPath); err == nil {
			csvSize = fi.Size()
		}
		logf("CSV ledger: %d rows written in %.1f s, %s", rows, csvLoad.Seconds(), mib(csvSize/1024))
	}
	inv = sandbox.Inventory{}
	runtime.GC()
	debug.FreeOSMemory()

	// ---- the adversary ----
	before := counted.total.Load()
	t0 = time.Now()
	planted, err := sandboxtest.Plant(ctx, baseURL, key, sandboxtest.PlantSpec{Wallets: o.plantWallets, Signatures: o.plantSignatures})
	if err != nil {
		return fmt.Errorf("planting (with a rate limit, planting must fit in the sandbox's burst of N requests): %w", err)
	}
	logf("planted %d wallets, %d device groups, %d pending signatures in %.1f s (%d requests)",
		len(planted.Wallets), len(planted.DeviceGroups), len(planted.Operations), time.Since(t0).Seconds(), counted.total.Load()-before)
	if len(planted.Wallets) != o.plantWallets || len(planted.DeviceGroups) != o.plantWallets || len(planted.Operations) != o.plantSignatures {
		return fmt.Errorf("planted %d wallets, %d groups, %d operations; asked for %d, %d, %d",
			len(planted.Wallets), len(planted.DeviceGroups), len(planted.Operations), o.plantWallets, o.plantWallets, o.plantSignatures)
	}

	// ---- the audits ----
	type ledger struct{ name, source string }
	ledgers := []ledger{{"PostgreSQL", pgDSN}}
	if o.csv {
		ledgers = append(ledgers, ledger{"CSV", csvPath})
	}
	env := append(os.Environ(),
		"WAASCTL_CONFIG="+filepath.Join(tmp, "config.yaml"), // none: only flags count
		"WAASCTL_STATE_DIR="+filepath.Join(tmp, "state"),
	)
	if o.childGODEBUG != "" {
		env = append(env, "GODEBUG="+o.childGODEBUG)
	}
	var results []result
	failed := 0
	for _, l := range ledgers {
		for _, audit := range []string{"resources", "operations"} {
			if !slices.Contains(strings.Split(o.only, ","), audit) {
				continue
			}
			for i := 1; i <= o.runs; i++ {
				if o.rateLimit.N > 0 {
					// Each run starts with the sandbox's bucket full, as after any quiet spell.
					time.Sleep(o.rateLimit.Per)
				}
				args := []string{"audit", audit, "--endpoint", baseURL, "--key-file", keyFile, "--ledger", l.source}
				if l.name == "PostgreSQL" {
					for _, k := range []string{"wallet", "device_group", "operation"} {
						args = append(args, "--ledger-query", k+"="+sandboxtest.LedgerQueries[k+"s"])
					}
				}
				args = append(args, "-o", "json", "--concurrency", strconv.Itoa(o.concurrency), "--rate", strconv.FormatFloat(o.rate, 'f', -1, 64))
				stem := filepath.Join(tmp, fmt.Sprintf("%s-%s-%d", strings.ToLower(l.name), audit, i))
				r, err := runWaasctl(ctx, o, env, stem, args, counted)
				if err != nil {
					return err
				}
				r.ledger, r.audit, r.run = l.name, audit, i
				r.problems = check(stem+".json", audit, r.exit, est, o, planted)
				if len(r.problems) > 0 {
					failed++
					for _, p := range r.problems {
						logf("FAILED: %s audit against the %s ledger, run %d: %s", audit, l.name, i, p)
					}
					if b, _ := os.ReadFile(stem + ".err"); len(b) > 0 {
						logf("waasctl's stderr: %s", clip(string(b), 2000))
					}
				}
				logf("%s against %s, run %d: %.2f s (no request in flight for %.2f s: %.2f s before the first, %.2f s after the last, the rest in pauses of %s or more), peak RSS %s, user %.2f s, system %.2f s, sandbox %.2f CPU-s, %d requests (%d answered 429), exit %d",
					audit, l.name, i, r.wall.Seconds(), r.idle.Seconds(), r.beforeFirst.Seconds(), r.afterLast.Seconds(), pauseMin, mib(r.maxRSS), r.user, r.sys, r.sandboxCPU, r.requests, r.limited, r.exit)
				results = append(results, r)
			}
		}
	}

	// ---- the table ----
	ps := waas.DefaultPageSize
	walletPages := ceilDiv(o.pools, ps) + (o.pools-1)*max(1, ceilDiv(o.walletsPerPool, ps)) + max(1, ceilDiv(o.walletsPerPool+o.plantWallets, ps))
	expected := map[string]int{
		"resources":  walletPages,                               // no missing resource to confirm with a GET
		"operations": walletPages + est.groups + o.plantWallets, // one ListMPCOperations per device group
	}
	fmt.Println()
	fmt.Printf("## waasctl reconciliation at scale, %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("Machine: %s\n\n", machine)
	fmt.Printf("Load average (1, 5, 15 min) at the start: %s; at the end: %s\n\n", loadStart, loadAvg())
	fmt.Printf("Estate: %d pools x %d wallets = %d wallets in %d device groups (%d wallets a group), %d pending operations (%d a group); sandbox seeded in %.1f s; rate limit %s; planted: %d wallets in %d new device groups, %d pending signatures.\n\n",
		est.pools, o.walletsPerPool, est.wallets, est.groups, o.walletsPerGroup, est.ops, o.opsPerGroup, seedTime.Seconds(), o.rateLimit, o.plantWallets, o.plantWallets, o.plantSignatures)
	fmt.Printf("Ledger: %d rows (%d wallets, %d device groups, %d operations); PostgreSQL: loaded in %.1f s, database %s", rows, est.wallets, est.groups, est.ops, pgLoad.Seconds(), pgSize)
	if o.csv {
		fmt.Printf("; CSV: written in %.1f s, %s", csvLoad.Seconds(), mib(csvSize/1024))
	}
	fmt.Printf(".\n\nwaasctl --concurrency %d --rate %s (page size %d).\n\n", o.concurrency, strconv.FormatFloat(o.rate, 'f', -1, 64), ps)
	fmt.Println("| audit | ledger | ledger rows scanned | wall | no request in flight, pauses >= 100 ms (of which after the last) | peak RSS | waasctl CPU user + sys | sandbox CPU | requests (expected) | rate-limit bound | time / bound | findings as planted, exit code |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		// resources: wallets and device groups, read twice (the index, then the entries never
		// matched); operations: operations and device groups, then the operations again (only
		// when something is unknown: what the middle tier recorded meanwhile).
		read := 2 * (est.wallets + est.groups)
		if r.audit == "operations" {
			read = est.ops + est.groups
			if o.plantSignatures > 0 {
				read += est.ops
			}
		}
		bound, ratio := "(no rate limit)", ""
		if o.rateLimit.N > 0 {
			perSec := float64(o.rateLimit.N) / o.rateLimit.Per.Seconds()
			b := float64(r.requests) / perSec
			bound = fmt.Sprintf("%d / %s/s = %.2f s", r.requests, strconv.FormatFloat(perSec, 'f', -1, 64), b)
			ratio = fmt.Sprintf("%.2fx", r.wall.Seconds()/b)
		}
		ok := "yes"
		if len(r.problems) > 0 {
			ok = "**no**: " + strings.Join(r.problems, "; ")
		}
		runs := ""
		if o.runs > 1 {
			runs = fmt.Sprintf(" (run %d)", r.run)
		}
		limited := ""
		if r.limited > 0 {
			limited = fmt.Sprintf(", %d answered 429", r.limited)
		}
		fmt.Printf("| %s%s | %s | %d | %.2f s | %.2f s (%.2f s) | %s | %.2f + %.2f s | %.2f s | %d%s (%d) | %s | %s | %s |\n",
			r.audit, runs, r.ledger, read, r.wall.Seconds(), r.idle.Seconds(), r.afterLast.Seconds(), mib(r.maxRSS), r.user, r.sys, r.sandboxCPU, r.requests, limited, expected[r.audit], bound, ratio, ok)
	}
	fmt.Printf("\nThis process (the sandbox, and the ledgers while they were written) peaked at %s RSS.\n", mib(procKiB("self", "VmHWM")))
	if failed > 0 {
		return fmt.Errorf("%d run(s) did not report exactly what was planted (see above)", failed)
	}
	return nil
}

type estate struct{ pools, wallets, groups, ops int }

type result struct {
	ledger, audit string
	run, exit     int
	wall          time.Duration
	user, sys     float64
	maxRSS        int64   // KiB
	sandboxCPU    float64 // CPU-seconds this process (the sandbox) used meanwhile
	// idle: how long waasctl had no request in flight, counting only pauses of pauseMin or more
	// between requests: starting, reading the ledger into the index, the second ledger scan,
	// printing. beforeFirst and afterLast: from waasctl's start to its first request, from its
	// last answer to its exit.
	idle, beforeFirst, afterLast time.Duration
	requests, limited            int64
	problems                     []string
}

// runWaasctl runs waasctl ARGS under GNU time, stdout to STEM.json and stderr to STEM.err.
func runWaasctl(ctx context.Context, o options, env []string, stem string, args []string, counted *counter) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	timeFile := stem + ".time"
	cmd := exec.CommandContext(ctx, o.gnuTime, append([]string{"-f", "%e %U %S %M", "-o", timeFile, o.waasctl}, args...)...)
	cmd.Env = env
	stdout, err := os.Create(stem + ".json")
	if err != nil {
		return result{}, err
	}
	defer stdout.Close()
	stderr, err := os.Create(stem + ".err")
	if err != nil {
		return result{}, err
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	req0, lim0 := counted.total.Load(), counted.limited.Load()
	counted.reset()
	cpu0 := selfCPU()
	t0 := time.Now()
	err = cmd.Run()
	t1 := time.Now()
	var r result
	r.wall = t1.Sub(t0)
	r.sandboxCPU = selfCPU() - cpu0
	if paused, first, last := counted.times(); !first.IsZero() {
		r.beforeFirst, r.afterLast = first.Sub(t0), t1.Sub(last)
		r.idle = r.beforeFirst + paused + r.afterLast
	}
	r.requests, r.limited = counted.total.Load()-req0, counted.limited.Load()-lim0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	default:
		return r, fmt.Errorf("running waasctl: %w", err)
	}
	if ctx.Err() != nil {
		return r, fmt.Errorf("waasctl %s: no result after %s", strings.Join(args[:2], " "), o.timeout)
	}
	// GNU time writes "Command exited with non-zero status N" before the format's line.
	b, err := os.ReadFile(timeFile)
	if err != nil {
		return r, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) != 4 {
		return r, fmt.Errorf("GNU time wrote %q", string(b))
	}
	r.user, _ = strconv.ParseFloat(f[1], 64)
	r.sys, _ = strconv.ParseFloat(f[2], 64)
	r.maxRSS, _ = strconv.ParseInt(f[3], 10, 64)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return r, fmt.Errorf("waasctl killed by %s", ws.Signal())
	}
	return r, nil
}

// check compares what waasctl reported with what was planted: exit 3 (0 if nothing of the
// audit's kind was planted), exactly the planted
// wallets and device groups unknown and nothing missing (resources), or exactly the planted
// operations unknown (operations), and counts that add up to the estate.
func check(path, audit string, exit int, est estate, o options, planted sandboxtest.Planted) []string {
	var problems []string
	want := 3 // findings
	if (audit == "resources" && o.plantWallets == 0) || (audit == "operations" && o.plantSignatures == 0) {
		want = 0
	}
	if exit != want {
		problems = append(problems, fmt.Sprintf("exit %d, want %d", exit, want))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return append(problems, err.Error())
	}
	switch audit {
	case "resources":
		var rep struct {
			Unknown       []struct{ Kind, Name string }
			Missing       []struct{ Kind, Name string }
			Totals        struct{ Wallets, DeviceGroups int }
			LedgerEntries map[string]int
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			return append(problems, fmt.Sprintf("stdout is not a resources report: %v (%s)", err, clip(string(b), 200)))
		}
		var got, want []string
		for _, u := range rep.Unknown {
			got = append(got, u.Kind+" "+u.Name)
		}
		for _, w := range planted.Wallets {
			want = append(want, "wallet "+w)
		}
		for _, g := range planted.DeviceGroups {
			want = append(want, "device_group "+g)
		}
		problems = append(problems, sameSet("unknown", got, want)...)
		if len(rep.Missing) > 0 {
			problems = append(problems, fmt.Sprintf("%d missing, want none (first: %s %s)", len(rep.Missing), rep.Missing[0].Kind, rep.Missing[0].Name))
		}
		if rep.Totals.Wallets != est.wallets+o.plantWallets || rep.Totals.DeviceGroups != est.groups+o.plantWallets {
			problems = append(problems, fmt.Sprintf("listed %d wallets and %d device groups, want %d and %d",
				rep.Totals.Wallets, rep.Totals.DeviceGroups, est.wallets+o.plantWallets, est.groups+o.plantWallets))
		}
		if rep.LedgerEntries["wallet"] != est.wallets || rep.LedgerEntries["device_group"] != est.groups {
			problems = append(problems, fmt.Sprintf("ledger entries %v, want %d wallets and %d device groups", rep.LedgerEntries, est.wallets, est.groups))
		}
	case "operations":
		var rep struct {
			Unknown       []struct{ Operation string }
			DeviceGroups  int
			Pending       int `json:"pendingOperations"`
			Known         int
			RecordedLate  int
			LedgerEntries map[string]int
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			return append(problems, fmt.Sprintf("stdout is not an operations report: %v (%s)", err, clip(string(b), 200)))
		}
		var got []string
		for _, u := range rep.Unknown {
			got = append(got, u.Operation)
		}
		problems = append(problems, sameSet("unknown", got, planted.Operations)...)
		if rep.DeviceGroups != est.groups+o.plantWallets || rep.Pending != est.ops+o.plantSignatures || rep.Known != est.ops || rep.RecordedLate != 0 {
			problems = append(problems, fmt.Sprintf("%d device groups, %d pending, %d known, %d recorded late; want %d, %d, %d, 0",
				rep.DeviceGroups, rep.Pending, rep.Known, rep.RecordedLate, est.groups+o.plantWallets, est.ops+o.plantSignatures, est.ops))
		}
		if rep.LedgerEntries["operation"] != est.ops || rep.LedgerEntries["device_group"] != est.groups {
			problems = append(problems, fmt.Sprintf("ledger entries %v, want %d operations and %d device groups", rep.LedgerEntries, est.ops, est.groups))
		}
	}
	return problems
}

// sameSet describes how got and want differ, if they do.
func sameSet(what string, got, want []string) []string {
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if slices.Equal(g, w) {
		return nil
	}
	var extra, lacking []string
	for _, s := range g {
		if _, ok := slices.BinarySearch(w, s); !ok {
			extra = append(extra, s)
		}
	}
	for _, s := range w {
		if _, ok := slices.BinarySearch(g, s); !ok {
			lacking = append(lacking, s)
		}
	}
	first := func(s []string) string {
		if len(s) == 0 {
			return "none"
		}
		return s[0]
	}
	return []string{fmt.Sprintf("%s: %d reported, %d planted; %d not planted (first: %s), %d planted not reported (first: %s)",
		what, len(g), len(w), len(extra), first(extra), len(lacking), first(lacking))}
}

// counter counts the requests a handler answers, and the 429s among them. Since reset, it also
// notes when the first request arrived, when the last was answered, and the pauses between them
// of at least pauseMin with no request in flight: a client pacing itself (even at 10 requests a
// second) pauses less than that; reading a ledger takes longer.
type counter struct {
	h              http.Handler
	total, limited atomic.Int64

	mu          sync.Mutex
	inFlight    int
	idleSince   time.Time
	paused      time.Duration
	first, last time.Time
}

const pauseMin = 100 * time.Millisecond

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused, c.first, c.last = 0, time.Time{}, time.Time{}
}

// times returns the first arrival and the last answer since reset (zero if none) and the pauses
// in between.
func (c *counter) times() (paused time.Duration, first, last time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused, c.first, c.last
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	now := time.Now()
	if c.first.IsZero() {
		c.first = now
	} else if c.inFlight == 0 && now.Sub(c.idleSince) >= pauseMin {
		c.paused += now.Sub(c.idleSince)
	}
	c.inFlight++
	c.mu.Unlock()

	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	c.h.ServeHTTP(rec, r)
	c.total.Add(1)
	if rec.status == http.StatusTooManyRequests {
		c.limited.Add(1)
	}

	c.mu.Lock()
	now = time.Now()
	c.inFlight--
	if c.inFlight == 0 {
		c.idleSince = now
	}
	c.last = now
	c.mu.Unlock()
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func writeCSV(path string, inv sandbox.Inventory) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := sandboxtest.WriteLedgerCSV(w, inv); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pgDatabaseSize asks the server how large the ledger database is, for the record.
func pgDatabaseSize(ctx context.Context, dsn string) string {
	out, err := exec.CommandContext(ctx, "psql", "-XAtq", "-d", dsn, "-c", "SELECT pg_size_pretty(pg_database_size(current_database()))").Output()
	if err != nil {
		return "(size unknown: psql failed)"
	}
	return strings.TrimSpace(string(out))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// selfCPU is the user and system CPU time this process has used, in seconds: during a waasctl
// run, that is the sandbox serving it (the PostgreSQL server is another process).
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// procKiB reads a field of /proc/PID/status in KiB (VmRSS, VmHWM).
func procKiB(pid, field string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// machineLine is the machine, as scripts/bench/inventory.sh describes it, with the commit of
// the working tree (and -dirty when it has uncommitted changes).
func machineLine(rev string) string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := float64(procMemTotal()) / (1 << 20)
	kernel := "Linux"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel += " " + strings.TrimSpace(string(b))
	}
	if rev == "" {
		rev = "unknown"
		if out, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output(); err == nil {
			rev = strings.TrimSpace(string(out)) + " (the working tree)"
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %.0f GiB RAM, %s, %s, waasctl %s", runtime.NumCPU(), model, mem, kernel, runtime.Version(), rev)
}

func procMemTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
