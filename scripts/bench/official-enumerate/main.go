// Command official-enumerate lists the name of every MPC wallet of every pool
// with Coinbase's official Go client, github.com/coinbase/waas-client-library-go
// v1.0.8, the way its README and example.go show: one client per service,
// iterator Next() loops, the default page size, one call at a time.
//
// It is the baseline that scripts/bench/inventory.sh times waasctl against:
//
//	go run ./scripts/bench/official-enumerate -endpoint http://127.0.0.1:PORT -key-file key.json
//
// It prints one wallet name per line on stdout and, on stderr, how many pools
// and wallets it saw and how long that took.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/coinbase/waas-client-library-go/auth"
	"github.com/coinbase/waas-client-library-go/clients"
	v1 "github.com/coinbase/waas-client-library-go/clients/v1"
	mpc_walletspb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/mpc_wallets/v1"
	poolspb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/pools/v1"
	"google.golang.org/api/iterator"
)

func main() {
	endpoint := flag.String("endpoint", "", "WaaS base URL (services at ENDPOINT/waas/<service>), e.g. the sandbox's")
	keyFile := flag.String("key-file", "", `API key file, {"name","privateKey"} JSON`)
	flag.Parse()
	if *endpoint == "" || *keyFile == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: official-enumerate -endpoint URL -key-file FILE")
		os.Exit(2)
	}
	if err := run(context.Background(), strings.TrimRight(*endpoint, "/"), *keyFile); err != nil {
		fmt.Fprintln(os.Stderr, "official-enumerate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, endpoint, keyFile string) error {
	raw, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	var key struct {
		Name       string `json:"name"`
		PrivateKey string `json:"privateKey"`
	}
	if err := json.Unmarshal(raw, &key); err != nil {
		return fmt.Errorf("%s: %w", keyFile, err)
	}
	authOpt := clients.WithAPIKey(&auth.APIKey{Name: key.Name, PrivateKey: key.PrivateKey})

	poolsClient, err := v1.NewPoolServiceClient(ctx, clients.WithEndpoint(endpoint+"/waas/pools"), authOpt)
	if err != nil {
		return fmt.Errorf("pools client: %w", err)
	}
	defer poolsClient.Close()
	walletsClient, err := v1.NewMPCWalletServiceClient(ctx, clients.WithEndpoint(endpoint+"/waas/mpc_wallets"), authOpt)
	if err != nil {
		return fmt.Errorf("wallets client: %w", err)
	}
	defer walletsClient.Close()

	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	start := time.Now()
	var nPools, nWallets int

	poolIter := poolsClient.ListPools(ctx, &poolspb.ListPoolsRequest{})
	for {
		pool, err := poolIter.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return fmt.Errorf("listing pools: %w", err)
		}
		nPools++
		walletIter := walletsClient.ListMPCWallets(ctx, &mpc_walletspb.ListMPCWalletsRequest{Parent: pool.GetName()})
		for {
			wallet, err := walletIter.Next()
			if errors.Is(err, iterator.Done) {
				break
			}
			if err != nil {
				return fmt.Errorf("listing wallets of %s: %w", pool.GetName(), err)
			}
			nWallets++
			out.WriteString(wallet.GetName())
			out.WriteByte('\n')
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "official-enumerate: %d pools, %d wallets in %s\n", nPools, nWallets, time.Since(start).Round(time.Millisecond))
	return nil
}
