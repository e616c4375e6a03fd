package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// ServeOptions is what `waasctl sandbox serve` needs.
type ServeOptions struct {
	IO *iostreams.IOStreams

	Addr             string
	AllowRemote      bool
	BootstrapKeyFile string
	Force            bool
	Seed             int64
	Shape            sandbox.EstateShape
	Latency          time.Duration
	RateLimits       []string
	FaultRate        float64
	RevocationDelay  int
	StatePath        string
	Verbose          bool
}

// NewCmdServe returns `sandbox serve`. runF replaces the run function in tests.
func NewCmdServe(f *cmdutil.Factory, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the WaaS REST API on loopback, with a seeded estate",
		Long: `Serve an emulator of the Coinbase WaaS REST API, faithful enough that the official
Go client works against it with real JWT authentication.

The first line on stdout is the base URL (services are at BASE/waas/<service>/v1);
logs go to stderr. SIGINT or SIGTERM shuts it down cleanly. The estate is
deterministic: the same --seed and shape give the same IDs everywhere.
By default every wallet has its own device group. --wallets-per-group N puts
N consecutive wallets of a pool in one group (the pool's last group may hold
fewer); each wallet keeps its own MPC keys and addresses, and
--operations-per-group still counts pending operations per group.

--bootstrap-key-file writes a fresh API key of the seeded organization, as the
{"name","privateKey"} JSON the Coinbase Cloud portal downloads, mode 0600.

See docs/sandbox.md for every endpoint, the key-admin API that stands in for the
developer portal, and how to complete MPC operations in tests.`,
		Example: `  # A sandbox with 2 pools of 1000 wallets, and a key to talk to it
  waasctl sandbox serve --pools 2 --wallets-per-pool 1000 --bootstrap-key-file key.json

  # A million wallets in 100,000 device groups
  waasctl sandbox serve --pools 100 --wallets-per-pool 10000 --wallets-per-group 10

  # A slow, flaky, rate-limited one, for testing retries
  waasctl sandbox serve --latency 20ms --fault-rate 0.1 --rate-limit 50/1s

  # Prime's shape: 25/s with a burst of 50 per organization, and a 30-second
  # penalty beyond 100/s in all
  waasctl sandbox serve --rate-limit 25/1s,burst=50,scope=org --rate-limit 100/1s,penalty=30s`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := opts.config(); err != nil {
				return err // a bad value is a usage error before runF, as in every command
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:0", "Listen address; port 0 picks a free port")
	fl.BoolVar(&opts.AllowRemote, "allow-remote", false, "Allow a non-loopback --addr (anyone who reaches the sandbox can use its keys)")
	fl.StringVar(&opts.BootstrapKeyFile, "bootstrap-key-file", "", "Write a new API key of the seeded organization to this `file` (mode 0600)")
	fl.BoolVar(&opts.Force, "force", false, "Overwrite an existing --bootstrap-key-file")
	fl.Int64Var(&opts.Seed, "seed", 1, "Seed of the deterministic estate")
	fl.IntVar(&opts.Shape.Pools, "pools", 3, "Seeded pools")
	fl.IntVar(&opts.Shape.WalletsPerPool, "wallets-per-pool", 10, "Seeded MPC wallets per pool")
	fl.IntVar(&opts.Shape.AddressesPerWallet, "addresses-per-wallet", 1, "Seeded addresses per wallet, on networks/"+sandbox.SeedNetwork)
	fl.IntVar(&opts.Shape.OperationsPerGroup, "operations-per-group", 1, "Pending MPC operations per seeded device group")
	fl.IntVar(&opts.Shape.WalletsPerGroup, "wallets-per-group", 1, "Seeded MPC wallets per device group: consecutive wallets of a pool share one, each with its own keys")
	fl.DurationVar(&opts.Latency, "latency", 0, "Latency added to every request, e.g. 20ms")
	fl.StringArrayVar(&opts.RateLimits, "rate-limit", nil, "Allow at most `N/PERIOD[,burst=B|,penalty=D][,scope=key|org]` requests (e.g. 10000/1h, 25/1s,burst=50); beyond it, 429 with Retry-After; repeatable")
	fl.Float64Var(&opts.FaultRate, "fault-rate", 0, "Probability `P` of an injected 500, 503 or dropped connection per request")
	fl.IntVar(&opts.RevocationDelay, "revocation-delay", 0, "A revoked key keeps authenticating for `N` more requests, as WaaS's propagation delay")
	fl.StringVar(&opts.StatePath, "state", "", "Load the estate and keys from this `file` if it exists, and save them there")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false, "Log every request to stderr")
	return cmd
}

// config validates the options and turns them into a sandbox config.
func (o *ServeOptions) config() (sandbox.Config, error) {
	cfg := sandbox.Config{Seed: o.Seed, Shape: o.Shape, Latency: o.Latency, FaultRate: o.FaultRate, RevocationDelay: o.RevocationDelay, StatePath: o.StatePath}
	for name, v := range map[string]int{"--pools": o.Shape.Pools, "--wallets-per-pool": o.Shape.WalletsPerPool, "--addresses-per-wallet": o.Shape.AddressesPerWallet, "--operations-per-group": o.Shape.OperationsPerGroup, "--wallets-per-group": o.Shape.WalletsPerGroup} {
		if v < 0 {
			return cfg, cmdutil.FlagErrorf("%s must not be negative", name)
		}
	}
	if o.Latency < 0 {
		return cfg, cmdutil.FlagErrorf("--latency must not be negative")
	}
	if o.FaultRate < 0 || o.FaultRate > 1 {
		return cfg, cmdutil.FlagErrorf("--fault-rate must be between 0 and 1, e.g. 0.1")
	}
	if o.RevocationDelay < 0 {
		return cfg, cmdutil.FlagErrorf("--revocation-delay must not be negative: it counts requests")
	}
	if !o.AllowRemote {
		if err := sandbox.CheckLoopback(o.Addr); err != nil {
			return cfg, cmdutil.FlagErrorf("--addr: %v", err)
		}
	}
	for _, spec := range o.RateLimits {
		rl, err := sandbox.ParseRateLimit(spec)
		if err != nil {
			return cfg, cmdutil.FlagErrorf("--rate-limit: %v", err)
		}
		cfg.RateLimits = append(cfg.RateLimits, rl)
	}
	return cfg, nil
}

func serveRun(ctx context.Context, opts *ServeOptions) error {
	cfg, err := opts.config()
	if err != nil {
		return err
	}
	if opts.BootstrapKeyFile != "" && !opts.Force {
		if _, err := os.Lstat(opts.BootstrapKeyFile); err == nil {
			return cmdutil.FlagErrorf("--bootstrap-key-file %s already exists; remove it or pass --force", opts.BootstrapKeyFile)
		}
	}
	level := slog.LevelInfo
	if opts.Verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(opts.IO.ErrOut, &slog.HandlerOptions{Level: level}))
	srv, err := sandbox.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()

	if opts.BootstrapKeyFile != "" {
		if err := writeBootstrapKey(srv, opts.BootstrapKeyFile, opts.Force); err != nil {
			return err
		}
	}
	err = srv.ListenAndServe(ctx, opts.Addr, opts.AllowRemote, func(baseURL string) {
		fmt.Fprintln(opts.IO.Out, baseURL)
		st := srv.Stats(srv.DefaultOrg())
		cfg.Logger.Info("sandbox serving", "url", baseURL, "org", srv.DefaultOrg(), "pools", st.Pools, "wallets", st.MPCWallets, "device_groups", st.DeviceGroups,
			"latency", cfg.Latency, "rate_limit", rateLimitsString(cfg.RateLimits), "fault_rate", cfg.FaultRate, "revocation_delay", cfg.RevocationDelay)
	})
	if err != nil {
		return err
	}
	// The totals let a benchmark see what its clients really sent.
	tot := srv.RequestTotals()
	cfg.Logger.Info("sandbox stopped", "requests", tot.Requests, "throttled", tot.Throttled, "penalties", tot.Penalties)
	return srv.Close()
}

func rateLimitsString(limits []sandbox.RateLimit) string {
	if len(limits) == 0 {
		return "unlimited"
	}
	out := make([]string, len(limits))
	for i, rl := range limits {
		out[i] = rl.String()
	}
	return strings.Join(out, " ")
}

// bootstrapKeyFile is the Coinbase Cloud key download format.
type bootstrapKeyFile struct {
	Name       string `json:"name"`
	PrivateKey string `json:"privateKey"`
}

func writeBootstrapKey(srv *sandbox.Server, path string, force bool) error {
	key, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "bootstrap"})
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(bootstrapKeyFile{Name: key.Name, PrivateKey: key.PrivateKey}, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if force {
		err = fsutil.WriteFile(path, data, 0o600)
	} else {
		err = fsutil.CreateExclusive(path, data, 0o600)
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) { // name the file asked for, not the temporary beside it
			err = pe.Err
		}
		return fmt.Errorf("cannot write --bootstrap-key-file %s: %v", path, err)
	}
	return nil
}
