package devicegroups

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
)

// The group's full name reaches the options; a bare ID or a second name is a usage error that
// shows the form, before any request.
func TestNewCmdGet(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	group := "pools/retail/deviceGroups/g1"
	for _, tc := range []struct {
		args     []string
		wantName string
		wantErr  string
	}{
		{args: []string{group}, wantName: group},
		{args: nil, wantErr: "device-groups get needs a name, pools/POOL/deviceGroups/ID"},
		{args: []string{"g1"}, wantErr: `name "g1" is not a name of the form pools/{pool}/deviceGroups/{group}`},
		{args: []string{"pools/retail/mpcWallets/w1"}, wantErr: "is not a name of the form pools/{pool}/deviceGroups/{group}"},
		{args: []string{group, group}, wantErr: "unexpected argument"},
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
