package version

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// TestVersionGolden: the line a release build prints (what -ldflags sets) and a build nothing
// stamped (what internal/build falls back to), on a terminal and piped.
func TestVersionGolden(t *testing.T) {
	for _, build := range []struct {
		name                  string
		version, commit, date string
	}{
		{"version_release", "v1.2.3", "0c1f9a2e4b7d8c3a5f6e1b2d9c8a7f6e5d4c3b2a", "2026-03-14T15:09:26Z"},
		{"version_dev", "dev", "unknown", "unknown"},
	} {
		for _, terminal := range []bool{true, false} {
			suffix := "_nontty"
			if terminal {
				suffix = "_tty"
			}
			t.Run(build.name+suffix, func(t *testing.T) {
				ios, _, stdout, stderr := iostreams.Test()
				ios.SetStdoutTTY(terminal)
				f := &cmdutil.Factory{IOStreams: ios, AppVersion: build.version, AppCommit: build.commit, AppDate: build.date}
				cmd := NewCmdVersion(f, nil)
				cmd.SetArgs([]string{})
				if err := cmd.Execute(); err != nil || stderr.Len() != 0 {
					t.Fatalf("err %v, stderr %q", err, stderr)
				}
				clitest.Golden(t, build.name+suffix+".golden", stdout.String())
			})
		}
	}
}
