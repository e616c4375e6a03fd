package sandbox

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/sandbox"
)

// serveConfig parses args as `sandbox serve` does and returns the config it
// would serve with.
func serveConfig(t *testing.T, args ...string) (sandbox.Config, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *ServeOptions
	cmd := NewCmdServe(&cmdutil.Factory{IOStreams: ios}, func(_ context.Context, o *ServeOptions) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		return sandbox.Config{}, err // a bad value stops the command before its run function
	}
	return got.config()
}

func TestWalletsPerGroupFlag(t *testing.T) {
	cfg, err := serveConfig(t, "--pools", "100", "--wallets-per-pool", "10000", "--wallets-per-group", "10")
	if err != nil {
		t.Fatal(err)
	}
	want := sandbox.EstateShape{Pools: 100, WalletsPerPool: 10000, AddressesPerWallet: 1, OperationsPerGroup: 1, WalletsPerGroup: 10}
	if cfg.Shape != want {
		t.Fatalf("shape %+v, want %+v", cfg.Shape, want)
	}

	cfg, err = serveConfig(t)
	if err != nil || cfg.Shape.WalletsPerGroup != 1 {
		t.Fatalf("default: a group per wallet, got %d (%v)", cfg.Shape.WalletsPerGroup, err)
	}

	_, err = serveConfig(t, "--wallets-per-group", "-1")
	var fe *cmdutil.FlagError
	if !errors.As(err, &fe) || err.Error() != "--wallets-per-group must not be negative" {
		t.Fatalf("negative --wallets-per-group: %v", err)
	}
}

func TestServeHelpDocumentsWalletsPerGroup(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdServe(&cmdutil.Factory{IOStreams: ios}, nil)
	f := cmd.Flags().Lookup("wallets-per-group")
	if f == nil || f.DefValue != "1" || !strings.Contains(f.Usage, "device group") {
		t.Fatalf("--wallets-per-group flag: %+v", f)
	}
	if !strings.Contains(cmd.Example, "--wallets-per-group 10") {
		t.Fatalf("no example with --wallets-per-group:\n%s", cmd.Example)
	}
}
