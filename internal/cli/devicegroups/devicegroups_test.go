package devicegroups

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

func TestNewCmdList(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		args    []string
		want    cmdutil.WalletScope
		wantErr string
	}{
		{[]string{"--all"}, cmdutil.WalletScope{All: true}, ""},
		{[]string{"--pool", "abc"}, cmdutil.WalletScope{Pool: "abc"}, ""},
		{[]string{"--pool", "pools/abc"}, cmdutil.WalletScope{Pool: "pools/abc"}, ""},
		{nil, cmdutil.WalletScope{}, "say which wallets: --pool POOL or --all"},
		{[]string{"--pool", "a", "--all"}, cmdutil.WalletScope{}, "--pool and --all cannot be used together"},
	} {
		got, err := clitest.ParseFlags(t, env, NewCmdList, tc.args...)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q: err %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.Scope != tc.want {
			t.Errorf("%q: scope %+v, err %v; want %+v", tc.args, got, err, tc.want)
		}
	}
}

func TestDeviceGroupsList(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "list", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) },
		func(*clitest.Env) []string { return []string{"--all"} })
}

func TestDeviceGroupsGet(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "get", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdGet(f, nil) },
		func(env *clitest.Env) []string { return []string{env.Sandbox.Inventory().DeviceGroups[0].Name} })
}
