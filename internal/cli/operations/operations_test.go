package operations

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

func TestNewCmdList(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	group := "pools/p/deviceGroups/g"
	for _, tc := range []struct {
		args      []string
		wantGroup string
		wantScope cmdutil.WalletScope
		wantErr   string
	}{
		{[]string{"--all"}, "", cmdutil.WalletScope{All: true}, ""},
		{[]string{"--pool", "p"}, "", cmdutil.WalletScope{Pool: "p"}, ""},
		{[]string{"--device-group", group}, group, cmdutil.WalletScope{}, ""},
		{nil, "", cmdutil.WalletScope{}, "say which device groups: --device-group GROUP, --pool POOL or --all"},
		{[]string{"--device-group", group, "--all"}, "", cmdutil.WalletScope{}, "--all and --device-group cannot be used together"},
		{[]string{"--device-group", "g"}, "", cmdutil.WalletScope{}, ""}, // not a full name: refused, message checked below
	} {
		got, err := clitest.ParseFlags(t, env, NewCmdList, tc.args...)
		switch {
		case tc.wantErr != "":
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q: err %v, want %q", tc.args, err, tc.wantErr)
			}
		case tc.wantGroup == "" && tc.wantScope == (cmdutil.WalletScope{}):
			if err == nil {
				t.Errorf("%q: accepted", tc.args)
			}
		case err != nil || got.DeviceGroup != tc.wantGroup || got.Scope != tc.wantScope:
			t.Errorf("%q: options %+v, err %v; want group %q, scope %+v", tc.args, got, err, tc.wantGroup, tc.wantScope)
		}
	}
}

func TestOperationsList(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "list", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) },
		func(*clitest.Env) []string { return []string{"--all"} })
}

func TestOperationsListOneGroup(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "list_group", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) },
		func(env *clitest.Env) []string {
			return []string{"--device-group", env.Sandbox.Inventory().Operations[0].DeviceGroup}
		})
}
