package version

import (
	"context"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

func TestVersion(t *testing.T) {
	ios, _, stdout, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, AppVersion: "v1.2.3", AppCommit: "abc123", AppDate: "2026-01-02T03:04:05Z"}
	cmd := NewCmdVersion(f, nil)
	cmd.SetArgs([]string{}) // nil would make cobra read the test binary's own flags (-update)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := "waasctl version v1.2.3 (commit abc123, built 2026-01-02T03:04:05Z)\n"
	if stdout.String() != want {
		t.Fatalf("stdout = %q, want %q", stdout, want)
	}
}

func TestVersionRejectsArguments(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdVersion(&cmdutil.Factory{IOStreams: ios}, func(context.Context, *VersionOptions) error {
		t.Fatal("run called despite a bad argument")
		return nil
	})
	cmd.SetArgs([]string{"extra"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); err == nil {
		t.Fatal("no error for an extra argument")
	}
}
