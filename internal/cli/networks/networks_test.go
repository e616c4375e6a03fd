package networks

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

func TestNewCmdList(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	if _, err := clitest.ParseFlags(t, env, NewCmdList); err != nil {
		t.Fatal(err)
	}
	if _, err := clitest.ParseFlags(t, env, NewCmdList, "extra"); err == nil {
		t.Error("an argument was accepted")
	}
}

func TestNetworksList(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "list", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) }, nil)
}
