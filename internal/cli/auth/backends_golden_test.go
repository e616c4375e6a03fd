package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/testctx"
)

// TestAuthBackendsGolden: the backends table on a terminal, piped and as JSON, for Linux's list
// of backends on a host with no Secret Service and no kwallet (a server): the list and the
// probes are fixed, as neither is the same on every machine.
func TestAuthBackendsGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		format   cmdutil.OutputFormat
	}{
		{"backends_tty", true, ""},
		{"backends_nontty", false, ""},
		{"backends_json", false, cmdutil.OutputJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, stdout, stderr := iostreams.Test()
			if tc.terminal {
				ios.SetStdoutTTY(true)
				ios.SetTerminalWidth(120)
			}
			opts := &BackendsOptions{
				IO:       ios,
				Output:   func() cmdutil.OutputFormat { return tc.format },
				Backends: func() []string { return []string{"secret-service", "kwallet", "keyctl", "pass", "file"} },
				Probe: func(_ context.Context, backend string) error {
					switch backend {
					case "secret-service":
						return errors.New("The name org.freedesktop.secrets was not provided by any .service files")
					case "kwallet":
						return errors.New("The name org.kde.kwalletd5 was not provided by any .service files")
					case "pass":
						return errors.New("pass not found in PATH")
					}
					return nil
				},
			}
			if err := backendsRun(testctx.New(t), opts); err != nil {
				t.Fatal(err)
			}
			if stderr.Len() != 0 {
				t.Fatalf("stderr %q", stderr)
			}
			clitest.Golden(t, tc.name+".golden", stdout.String())
		})
	}
}
