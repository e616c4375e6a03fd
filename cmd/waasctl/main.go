// Command waasctl is the command-line admin and API-key-rotation tool for Coinbase
// Wallet-as-a-Service. Everything lives in internal/cli so that tests can run the real entry point.
package main

import (
	"os"

	"github.com/waasctl/waasctl/internal/cli"
)

func main() { os.Exit(cli.Main()) }
