package cmdutil

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// printWith prints pools in format with the header settings of --no-headers and -o tsv by name.
func printWith(t *testing.T, format OutputFormat, noHeaders, tsvByName bool, cols []Column[pool]) string {
	t.Helper()
	ios, _, stdout, _ := iostreams.Test()
	ios.SetHeaderRows(noHeaders, tsvByName)
	if err := PrintList(ios, format, pools[:1], cols); err != nil {
		t.Fatal(err)
	}
	return stdout.String()
}

// TSV and CSV name their columns by JSON field; --no-headers drops the header row of every format
// that has one; the piped default (TSV not asked for by name) has none to drop.
func TestHeaderRows(t *testing.T) {
	for _, tc := range []struct {
		format               OutputFormat
		noHeaders, tsvByName bool
		want                 string
	}{
		{OutputTSV, false, true, "id\tdisplayName\twalletCount\npools/1\tMain\t12\n"},
		{OutputTSV, true, true, "pools/1\tMain\t12\n"},
		{OutputTSV, false, false, "pools/1\tMain\t12\n"},
		{OutputCSV, false, false, "id,displayName,walletCount\npools/1,Main,12\n"},
		{OutputCSV, true, false, "pools/1,Main,12\n"},
		{OutputTable, false, false, "ID       DISPLAY NAME  WALLETS\npools/1  Main          12\n"},
		{OutputTable, true, false, "pools/1  Main  12\n"},
	} {
		if got := printWith(t, tc.format, tc.noHeaders, tc.tsvByName, poolColumns); got != tc.want {
			t.Errorf("%s no-headers=%v tsv-by-name=%v:\ngot  %q\nwant %q", tc.format, tc.noHeaders, tc.tsvByName, got, tc.want)
		}
	}
	// An empty list still names its columns in -o tsv, as CSV does.
	ios, _, stdout, _ := iostreams.Test()
	ios.SetHeaderRows(false, true)
	if err := PrintList(ios, OutputTSV, []pool{}, poolColumns); err != nil || stdout.String() != "id\tdisplayName\twalletCount\n" {
		t.Errorf("empty -o tsv: %v %q", err, stdout.String())
	}
}

// A hidden column is left out of the table only: TSV and CSV keep a fixed column set, so that a
// script reading by position is not broken by a run that has one more thing to say.
func TestHiddenColumnStaysInTSVAndCSV(t *testing.T) {
	cols := append([]Column[pool]{}, poolColumns...)
	cols[2].Hidden = true
	if got, want := printWith(t, OutputTable, false, false, cols), "ID       DISPLAY NAME\npools/1  Main\n"; got != want {
		t.Errorf("table: got %q, want %q", got, want)
	}
	if got, want := printWith(t, OutputTSV, false, true, cols), "id\tdisplayName\twalletCount\npools/1\tMain\t12\n"; got != want {
		t.Errorf("tsv: got %q, want %q", got, want)
	}
	if got, want := printWith(t, OutputCSV, false, false, cols), "id,displayName,walletCount\npools/1,Main,12\n"; got != want {
		t.Errorf("csv: got %q, want %q", got, want)
	}
}

func TestFieldName(t *testing.T) {
	for header, want := range map[string]string{
		"NAME": "name", "DISPLAY NAME": "displayName", "USED %": "used", "DEVICE GROUPS": "deviceGroups",
		"KEY ID/FINGERPRINT": "keyIdFingerprint", "": "",
	} {
		if got := (Column[pool]{Header: header}).FieldName(); got != want {
			t.Errorf("FieldName(%q) = %q, want %q", header, got, want)
		}
	}
	if got := (Column[pool]{Header: "WALLETS", Field: "walletCount"}).FieldName(); got != "walletCount" {
		t.Errorf("Field is not used: %q", got)
	}
}

// -o tsv by name prints an object's keys as field names; the piped default keeps the labels.
func TestPrintObjectTSVKeys(t *testing.T) {
	for _, byName := range []bool{true, false} {
		ios, _, stdout, _ := iostreams.Test()
		ios.SetHeaderRows(false, byName)
		if err := PrintObject(ios, OutputTSV, pools[0], poolColumns); err != nil {
			t.Fatal(err)
		}
		want := "ID\tpools/1\nDISPLAY NAME\tMain\nWALLETS\t12\n"
		if byName {
			want = "id\tpools/1\ndisplayName\tMain\nwalletCount\t12\n"
		}
		if stdout.String() != want {
			t.Errorf("tsv by name=%v: got %q, want %q", byName, stdout.String(), want)
		}
	}
}
