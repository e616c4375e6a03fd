package wallets

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
)

// The wallet's full name reaches the options; a bare ID or a second name is a usage error that
// shows the form, before any request.
func TestNewCmdGet(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	wallet := "pools/retail/mpcWallets/w1"
	for _, tc := range []struct {
		args     []string
		wantName string
		wantErr  string
	}{
		{args: []string{wallet}, wantName: wallet},
		{args: nil, wantErr: "wallets get needs a wallet name, pools/POOL/mpcWallets/ID"},
		{args: []string{"w1"}, wantErr: `name "w1" is not a name of the form pools/{pool}/mpcWallets/{wallet}`},
		{args: []string{"pools/retail/deviceGroups/g"}, wantErr: "is not a name of the form pools/{pool}/mpcWallets/{wallet}"},
		{args: []string{wallet, wallet}, wantErr: "unexpected argument"},
	} {
		got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdGet), tc.args...)
		if tc.wantErr != "" {
			clitest.WantUsageError(t, tc.args, err, tc.wantErr)
			continue
		}
		if err != nil || got.Name != tc.wantName {
			t.Errorf("%q: options %+v, err %v; want name %q", tc.args, got, err, tc.wantName)
		}
	}
}
