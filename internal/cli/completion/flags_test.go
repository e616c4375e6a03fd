package completion

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
)

// The shell named reaches the options, with the command tree to complete; anything else is a
// usage error that lists the shells.
func TestNewCmdCompletion(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		args      []string
		wantShell string
		wantErr   string
	}{
		{args: []string{"bash"}, wantShell: "bash"},
		{args: []string{"zsh"}, wantShell: "zsh"},
		{args: []string{"fish"}, wantShell: "fish"},
		{args: []string{"powershell"}, wantShell: "powershell"},
		{args: nil, wantErr: "name a shell: bash, zsh, fish or powershell"},
		{args: []string{"tcsh"}, wantErr: `unsupported shell "tcsh": use bash, zsh, fish or powershell`},
		{args: []string{"Bash"}, wantErr: `unsupported shell "Bash"`},
		{args: []string{"bash", "zsh"}, wantErr: `unexpected argument "zsh"`},
		{args: []string{"bash", "--no-descriptions"}, wantErr: "unknown flag: --no-descriptions"},
	} {
		got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdCompletion), tc.args...)
		if tc.wantErr != "" {
			clitest.WantUsageError(t, tc.args, err, tc.wantErr)
			continue
		}
		// Root is the tree the script completes: here the command itself, under waasctl the root.
		if err != nil || got.Shell != tc.wantShell || got.Root == nil || got.Root.Name() != "completion" {
			t.Errorf("%q: options %+v, err %v; want shell %q and the command tree", tc.args, got, err, tc.wantShell)
		}
	}
}
