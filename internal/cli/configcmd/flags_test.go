package configcmd

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
)

// config path and config profiles take no argument and no flag of their own: the run function
// gets the config file and keyring to read, and anything more is a usage error.

func TestNewCmdPath(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	if got, err := clitest.ParseFlags(t, env, NewCmdPath); err != nil || got.ConfigFile == nil {
		t.Fatalf("options %+v, err %v; want the config file's path function", got, err)
	}
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"prod"}, `unexpected argument "prod" for "path"`},
		{[]string{"--dir"}, "unknown flag: --dir"},
	} {
		_, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdPath), tc.args...)
		clitest.WantUsageError(t, tc.args, err, tc.wantErr)
	}
}

func TestNewCmdProfiles(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	got, err := clitest.ParseFlags(t, env, NewCmdProfiles)
	if err != nil || got.Config == nil || got.Getenv == nil {
		t.Fatalf("options %+v, err %v; want the config and the environment to read", got, err)
	}
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"prod"}, `unexpected argument "prod" for "profiles"`},
		{[]string{"--all"}, "unknown flag: --all"},
	} {
		_, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdProfiles), tc.args...)
		clitest.WantUsageError(t, tc.args, err, tc.wantErr)
	}
}
