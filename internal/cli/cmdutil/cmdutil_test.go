package cmdutil

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestExitCodesMatchDesign(t *testing.T) {
	want := map[int]int{ExitOK: 0, ExitFailure: 1, ExitUsage: 2, ExitFindings: 3, ExitAuth: 4,
		ExitIncomplete: 5, ExitLocked: 6, ExitInterrupted: 130}
	for got, w := range want {
		if got != w {
			t.Errorf("exit code constant %d, want %d", got, w)
		}
	}
	if len(ExitCodes) != len(want) {
		t.Fatalf("ExitCodes documents %d codes, want %d", len(ExitCodes), len(want))
	}
	for _, d := range ExitCodes {
		if _, ok := want[d.Code]; !ok || d.Name == "" || d.Meaning == "" {
			t.Errorf("bad ExitCodes entry %+v", d)
		}
	}
}

func TestExitError(t *testing.T) {
	base := errors.New("boom")
	err := error(NewExitError(ExitAuth, base))
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitAuth || !errors.Is(err, base) || err.Error() != "boom" {
		t.Fatalf("NewExitError: %#v", err)
	}
	if got := ExitErrorf(ExitLocked, "held by %s", "ci").Error(); got != "held by ci" {
		t.Fatalf("ExitErrorf message %q", got)
	}
	if s := SilentExit(ExitFindings); s.Code != ExitFindings || !errors.Is(s, SilentError) {
		t.Fatalf("SilentExit: %#v", s)
	}
	if got := (&ExitError{Code: 5}).Error(); got != "exit status 5" {
		t.Fatalf("nil Err message %q", got)
	}
}

func TestFlagError(t *testing.T) {
	var fe *FlagError
	if err := FlagErrorf("bad %s", "x"); !errors.As(err, &fe) || err.Error() != "bad x" {
		t.Fatalf("FlagErrorf: %#v", err)
	}
	base := errors.New("unknown flag")
	if err := FlagErrorWrap(base); !errors.As(err, &fe) || !errors.Is(err, base) {
		t.Fatalf("FlagErrorWrap: %#v", err)
	}
}

func TestArgs(t *testing.T) {
	cmd := &cobra.Command{Use: "x"}
	tests := []struct {
		name    string
		v       cobra.PositionalArgs
		args    []string
		wantErr string
	}{
		{"no args ok", NoArgs, nil, ""},
		{"no args extra", NoArgs, []string{"a"}, `unexpected argument "a" for "x"`},
		{"exact ok", ExactArgs(1, "need a shell"), []string{"bash"}, ""},
		{"exact few", ExactArgs(1, "need a shell"), nil, "need a shell"},
		{"exact many", ExactArgs(1, "need a shell"), []string{"a", "b"}, `unexpected argument "b" for "x"`},
		{"minimum ok", MinimumArgs(1, "need a path"), []string{"a", "b"}, ""},
		{"minimum few", MinimumArgs(1, "need a path"), nil, "need a path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v(cmd, tt.args)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var fe *FlagError
			if !errors.As(err, &fe) || err.Error() != tt.wantErr {
				t.Fatalf("got %v, want usage error %q", err, tt.wantErr)
			}
		})
	}
}

func TestOutputFormatFlag(t *testing.T) {
	var o OutputFormat
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.VarP(&o, "output", "o", "")
	if err := fs.Parse([]string{"-o", "jsonl"}); err != nil || o != OutputJSONL {
		t.Fatalf("-o jsonl: %v, %q", err, o)
	}
	err := fs.Parse([]string{"-o", "xml"})
	if err == nil || !strings.Contains(err.Error(), "must be one of table, tsv, json, jsonl, csv, yaml") {
		t.Fatalf("-o xml: %v", err)
	}
}

// A time names its zone so that it cannot be misread: UTC as such, an abbreviation with its
// offset (CST is both UTC-06:00 and UTC+08:00), a zone without an abbreviation by its offset.
func TestClockTimeCannotBeMisread(t *testing.T) {
	at := time.Date(2026, 12, 7, 7, 12, 17, 0, time.UTC)
	for _, tt := range []struct {
		loc  *time.Location
		want string
	}{
		{time.UTC, "2026-12-07 07:12:17 UTC"},
		{time.FixedZone("CST", -6*3600), "2026-12-07 01:12:17 CST (UTC-06:00)"},
		{time.FixedZone("CST", 8*3600), "2026-12-07 15:12:17 CST (UTC+08:00)"},
		{time.FixedZone("IST", 5*3600+1800), "2026-12-07 12:42:17 IST (UTC+05:30)"},
		{time.FixedZone("-03", -3*3600), "2026-12-07 04:12:17 -03"},
		{time.FixedZone("", 3600), "2026-12-07 08:12:17 +0100"},
	} {
		if got := ClockTime(at, tt.loc); got != tt.want {
			t.Errorf("ClockTime in %v = %q, want %q", tt.loc, got, tt.want)
		}
	}
}
