package version

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
)

// The build's version, commit and date reach the options; any argument or flag is a usage error.
func TestNewCmdVersion(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	env.Factory.AppVersion, env.Factory.AppCommit, env.Factory.AppDate = "v1.2.3", "abc123", "2026-01-02T03:04:05Z"
	got, err := clitest.ParseFlags(t, env, NewCmdVersion)
	if err != nil || got.Version != "v1.2.3" || got.Commit != "abc123" || got.Date != "2026-01-02T03:04:05Z" {
		t.Fatalf("options %+v, err %v", got, err)
	}
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--short"}, "unknown flag: --short"},
		{[]string{"v1"}, `unexpected argument "v1" for "version"`},
	} {
		_, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdVersion), tc.args...)
		clitest.WantUsageError(t, tc.args, err, tc.wantErr)
	}
}
