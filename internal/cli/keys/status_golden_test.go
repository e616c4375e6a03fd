package keys

import (
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
)

// statusFixture is a keyring whose keys have fixed names, fingerprints and ages, as keys status
// shows them: prod with all three slots, stage with a current key only.
func statusFixture(t *testing.T, now time.Time) credentials.Store {
	t.Helper()
	key := func(id byte, age time.Duration) *credentials.StoredKey {
		return clitest.FixedKey(t, id, now.Add(-age), "")
	}
	store := credentials.NewMemoryStore()
	for _, it := range []*credentials.Item{
		{Profile: "prod",
			Current: key(1, 3*time.Hour), Pending: key(2, time.Minute), Previous: key(3, 95*24*time.Hour)},
		{Profile: "stage",
			Current: key(4, 40*24*time.Hour)},
	} {
		if err := store.Put(testctx.New(t), it); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func TestKeysStatus(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		terminal bool
		format   cmdutil.OutputFormat
	}{
		{"status_tty", true, ""},
		{"status_nontty", false, ""},
		{"status_json", false, cmdutil.OutputJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, stdout, stderr := iostreams.Test()
			if tc.terminal {
				ios.SetStdoutTTY(true)
				ios.SetTerminalWidth(120)
			}
			store := statusFixture(t, now)
			opts := &StatusOptions{
				IO:       ios,
				Keyring:  func() (credentials.Store, error) { return store, nil },
				StateDir: func() (string, error) { return t.TempDir(), nil },
				Output:   func() cmdutil.OutputFormat { return tc.format },
				Now:      func() time.Time { return now },
			}
			if err := statusRun(testctx.New(t), opts); err != nil || stderr.Len() != 0 {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			clitest.Golden(t, tc.name+".golden", stdout.String())
		})
	}
}
