// Command waasctl is the command-line admin and API-key-rotation tool for Coinbase
// Wallet-as-a-Service. Everything lives in internal/cli so that tests can run the real entry point.
package main

import (
	"fmt"
	"os"

	"github.com/waasctl/waasctl/internal/cli"
	"github.com/waasctl/waasctl/internal/process"
)

func main() {
	// First, before any key is read: no core dump of this process's memory.
	if err := process.Harden(); err != nil {
		fmt.Fprintf(os.Stderr, "warning: could not turn core dumps off: %v\n", err)
	}
	os.Exit(cli.Main())
}
