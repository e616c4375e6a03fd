package auth

import (
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
)

func TestAuthList(t *testing.T) {
	now := clitest.FixedNow
	store := credentials.NewMemoryStore()
	for _, it := range []*credentials.Item{
		{Profile: "ci", Current: clitest.FixedKey(t, 1, now.Add(-30*time.Second), "file download.json")},
		{Profile: "prod", Current: clitest.FixedKey(t, 2, now.Add(-3*time.Hour), "rotation"), Previous: clitest.FixedKey(t, 3, now.Add(-95*24*time.Hour), "file key.json")},
		{Profile: "stage", Current: clitest.FixedKey(t, 4, now.Add(-40*24*time.Hour), "stdin"), Pending: clitest.FixedKey(t, 5, now.Add(-time.Minute), "rotation")},
	} {
		if err := store.Put(testctx.New(t), it); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		terminal bool
		format   cmdutil.OutputFormat
		profiles []string
	}{
		{"list_tty", true, "", nil},
		{"list_nontty", false, "", nil},
		{"list_json", false, cmdutil.OutputJSON, nil},
		{"list_one_nontty", false, "", []string{"prod"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, stdout, stderr := iostreams.Test()
			if tc.terminal {
				ios.SetStdoutTTY(true)
				ios.SetTerminalWidth(120)
			}
			opts := &ListOptions{
				IO:       ios,
				Keyring:  func() (credentials.Store, error) { return store, nil },
				Output:   func() cmdutil.OutputFormat { return tc.format },
				Now:      func() time.Time { return now },
				Profiles: tc.profiles,
			}
			if err := listRun(testctx.New(t), opts); err != nil || stderr.Len() != 0 {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			clitest.Golden(t, tc.name+".golden", stdout.String())
		})
	}
}
