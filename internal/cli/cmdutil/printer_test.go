package cmdutil

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/textsafe"
	"gopkg.in/yaml.v3"
)

// pool is a typical API object: json tags that differ from the Go names, a nested list, a field
// left out when empty.
type pool struct {
	ID      string   `json:"id"`
	Name    string   `json:"displayName"`
	Wallets int      `json:"walletCount"`
	Tags    []string `json:"tags,omitempty"`
}

var poolColumns = []Column[pool]{
	{Header: "ID", Value: func(p pool) string { return p.ID }},
	{Header: "DISPLAY NAME", Value: func(p pool) string { return p.Name }},
	{Header: "WALLETS", Field: "walletCount", Value: func(p pool) string { return fmt.Sprint(p.Wallets) }},
}

var pools = []pool{
	{ID: "pools/1", Name: "Main", Wallets: 12, Tags: []string{"prod", "eu"}},
	{ID: "pools/22", Name: "tab\there, \"quoted\" <b>", Wallets: 0},
}

func printList[T any](t *testing.T, format OutputFormat, tty bool, items []T, cols []Column[T]) string {
	t.Helper()
	ios, _, stdout, _ := iostreams.Test()
	ios.SetStdoutTTY(tty)
	p := NewListPrinter(ios, format, cols)
	for _, it := range items {
		if err := p.Add(it); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if p.Count() != len(items) {
		t.Errorf("Count() = %d, want %d", p.Count(), len(items))
	}
	return stdout.String()
}

func TestListPrinterFormats(t *testing.T) {
	tests := []struct {
		name   string
		format OutputFormat
		tty    bool
		want   string
	}{
		{"default on a terminal is a table", OutputDefault, true, "" +
			"ID        DISPLAY NAME            WALLETS\n" +
			"pools/1   Main                    12\n" +
			"pools/22  tab here, \"quoted\" <b>  0\n"},
		{"table when piped", OutputTable, false, "" +
			"ID        DISPLAY NAME            WALLETS\n" +
			"pools/1   Main                    12\n" +
			"pools/22  tab here, \"quoted\" <b>  0\n"},
		{"default when piped is tsv", OutputDefault, false, "" +
			"pools/1\tMain\t12\n" +
			"pools/22\ttab here, \"quoted\" <b>\t0\n"},
		{"json", OutputJSON, true, "" +
			`[{"id":"pools/1","displayName":"Main","walletCount":12,"tags":["prod","eu"]},` + "\n" +
			`{"id":"pools/22","displayName":"tab\there, \"quoted\" <b>","walletCount":0}]` + "\n"},
		{"jsonl", OutputJSONL, false, "" +
			`{"id":"pools/1","displayName":"Main","walletCount":12,"tags":["prod","eu"]}` + "\n" +
			`{"id":"pools/22","displayName":"tab\there, \"quoted\" <b>","walletCount":0}` + "\n"},
		{"csv", OutputCSV, false, "" +
			"id,displayName,walletCount\n" +
			"pools/1,Main,12\n" +
			"pools/22,\"tab here, \"\"quoted\"\" <b>\",0\n"}, // a control character (a tab) becomes a space, as in TSV
		{"yaml", OutputYAML, false, "" +
			"- id: pools/1\n" +
			"  displayName: Main\n" +
			"  walletCount: 12\n" +
			"  tags:\n" +
			"    - prod\n" +
			"    - eu\n" +
			"- id: pools/22\n" +
			"  displayName: \"tab\\there, \\\"quoted\\\" <b>\"\n" +
			"  walletCount: 0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := printList(t, tt.format, tt.tty, pools, poolColumns); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s\n(got %q)", got, tt.want, got)
			}
		})
	}
}

func TestListPrinterEmpty(t *testing.T) {
	want := map[OutputFormat]string{
		OutputTable: "", // the command may say "no pools found" on stderr
		OutputTSV:   "",
		OutputJSON:  "[]\n",
		OutputJSONL: "",
		OutputCSV:   "id,displayName,walletCount\n",
		OutputYAML:  "[]\n",
	}
	for format, w := range want {
		t.Run(string(format), func(t *testing.T) {
			if got := printList(t, format, false, nil, poolColumns); got != w {
				t.Errorf("got %q, want %q", got, w)
			}
		})
	}
}

// Table and TSV values never span lines or carry terminal escape sequences.
func TestListPrinterFlattensValues(t *testing.T) {
	items := []pool{{ID: "p", Name: "two\nlines\r\nhere \x1b[31mred\x1b[0m"}}
	if got, want := printList(t, OutputDefault, true, items, poolColumns),
		"ID  DISPLAY NAME                 WALLETS\np   two lines here  [31mred [0m  0\n"; got != want {
		t.Errorf("table: got %q, want %q", got, want)
	}
	if got, want := printList(t, OutputDefault, false, items, poolColumns),
		"p\ttwo lines here  [31mred [0m\t0\n"; got != want {
		t.Errorf("tsv: got %q, want %q", got, want)
	}
}

// A display name is chosen by whoever created the pool. Whatever it holds, the table and TSV keep
// one line per item and one field per column, and JSON and YAML carry it exactly but with nothing
// a terminal would act on: no C1 control, no bidi override, no line separator.
func TestListPrinterDefusesHostileNames(t *testing.T) {
	hostile := "evil\x1b[2J\u009b2J\nforged line\u2028sep\u202eright-to-left\u2066iso\u2069\u200f\x7f"
	items := []pool{{ID: "pools/h", Name: hostile, Wallets: 1}, {ID: "pools/ok", Name: "fine", Wallets: 2}}
	safeOutput := func(format string, out string, allowed string) {
		t.Helper()
		for _, r := range out {
			if strings.ContainsRune(allowed, r) {
				continue
			}
			if textsafe.Unsafe(r) {
				t.Errorf("%s output keeps %U: %q", format, r, out)
				return
			}
		}
	}
	table := printList(t, OutputTable, true, items, poolColumns)
	safeOutput("table", table, "\n")
	if lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[2], "pools/ok  ") {
		t.Errorf("table layout broken:\n%s", table)
	}
	tsv := printList(t, OutputTSV, false, items, poolColumns)
	safeOutput("tsv", tsv, "\n\t")
	for _, l := range strings.Split(strings.TrimSuffix(tsv, "\n"), "\n") {
		if strings.Count(l, "\t") != 2 {
			t.Errorf("tsv line %q has %d tabs, want 2", l, strings.Count(l, "\t"))
		}
	}
	for _, f := range []OutputFormat{OutputJSON, OutputJSONL} {
		out := printList(t, f, false, items, poolColumns)
		safeOutput(string(f), out, "\n")
		dec := json.NewDecoder(strings.NewReader(out))
		var got pool
		if f == OutputJSON {
			var all []pool
			if err := dec.Decode(&all); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			got = all[0]
		} else if err := dec.Decode(&got); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got.Name != hostile {
			t.Errorf("%s changed the name: %q", f, got.Name)
		}
	}
	// CSV is read by people too (cat, a terminal preview): its cells are made safe like TSV's.
	c := printList(t, OutputCSV, false, items, poolColumns)
	safeOutput("csv", c, "\n")
	if rows, err := csv.NewReader(strings.NewReader(c)).ReadAll(); err != nil || len(rows) != 3 {
		t.Errorf("csv does not read back as a header and 2 rows (%v):\n%s", err, c)
	}
	y := printList(t, OutputYAML, false, items, poolColumns)
	safeOutput("yaml", y, "\n")
	var back []map[string]any
	if err := yaml.Unmarshal([]byte(y), &back); err != nil || len(back) != 2 || back[0]["displayName"] != hostile {
		t.Errorf("yaml does not read back (%v): %+v\n%s", err, back, y)
	}
}

// YAML must show the JSON names, in the JSON order, and quote strings that would otherwise read
// back as another type, in YAML 1.2 or in YAML 1.1 (country code NO, a time as base-60).
func TestListPrinterYAMLMatchesJSON(t *testing.T) {
	type item struct {
		Zeta   string            `json:"zeta"`
		Alpha  string            `json:"alpha"`
		Norway string            `json:"country"`
		Time   string            `json:"at"`
		Big    uint64            `json:"big"`
		Ratio  float64           `json:"ratio"`
		On     bool              `json:"on"`
		Nil    *string           `json:"nil"`
		Labels map[string]string `json:"labels"`
		Empty  []int             `json:"empty"`
	}
	got := printList(t, OutputYAML, false, []item{{
		Zeta: "true", Alpha: "0x1f", Norway: "NO", Time: "12:30", Big: 18446744073709551615, Ratio: 0.5, On: true,
		Labels: map[string]string{"b": "2", "a": "1"}, Empty: []int{},
	}}, nil)
	want := "" +
		"- zeta: \"true\"\n" +
		"  alpha: \"0x1f\"\n" +
		"  country: \"NO\"\n" +
		"  at: \"12:30\"\n" +
		"  big: 18446744073709551615\n" +
		"  ratio: 0.5\n" +
		"  \"on\": true\n" +
		"  nil: null\n" +
		"  labels:\n" +
		"    a: \"1\"\n" +
		"    b: \"2\"\n" +
		"  empty: []\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// Streaming formats must write each item soon after it is added, not at Close: a long
// enumeration shows results at once, and `| head` gets its lines (and makes the next write fail)
// early. Output is buffered but flushed at least every flushEvery, even while nothing more is
// added (the next page is being fetched).
func TestListPrinterStreams(t *testing.T) {
	for _, format := range []OutputFormat{OutputTSV, OutputJSON, OutputJSONL, OutputCSV, OutputYAML} {
		t.Run(string(format), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			out := &syncBuffer{}
			ios.Out = out
			p := NewListPrinter(ios, format, poolColumns)
			for i := range 500 {
				if err := p.Add(pool{ID: fmt.Sprintf("pools/%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(out.String(), "pools/499") {
				if time.Now().After(deadline) {
					t.Fatalf("the 500th item was not written within 5s of its Add; have %d bytes", len(out.String()))
				}
				time.Sleep(5 * time.Millisecond) // polling for a condition, bounded by the deadline
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestListPrinterTableBuffersUntilClose(t *testing.T) {
	ios, _, stdout, _ := iostreams.Test()
	p := NewListPrinter(ios, OutputTable, poolColumns)
	for _, it := range pools {
		_ = p.Add(it)
	}
	if stdout.Len() != 0 {
		t.Fatalf("table wrote before Close: %q", stdout)
	}
	_ = p.Close()
	if stdout.Len() == 0 {
		t.Fatal("table wrote nothing on Close")
	}
}

var errPipe = errors.New("write |1: broken pipe")

// failingWriter accepts limit bytes and then fails, like a pipe whose reader has exited.
type failingWriter struct{ limit int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if len(b) > w.limit {
		n := w.limit
		w.limit = 0
		return n, errPipe
	}
	w.limit -= len(b)
	return len(b), nil
}

func TestListPrinterReturnsWriteErrors(t *testing.T) {
	for _, format := range []OutputFormat{OutputTable, OutputTSV, OutputJSON, OutputJSONL, OutputCSV, OutputYAML} {
		t.Run(string(format), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			ios.Out = &failingWriter{limit: 100}
			p := NewListPrinter(ios, format, poolColumns)
			var err error
			for i := 0; i < 100 && err == nil; i++ {
				err = p.Add(pools[0])
			}
			if format == OutputTable && err != nil {
				t.Fatalf("table Add failed before writing anything: %v", err)
			}
			// Streamed output is buffered (flushed every 100ms and at Close), so
			// the error may only surface at Close.
			if err == nil {
				err = p.Close()
			}
			if !errors.Is(err, errPipe) {
				t.Fatalf("got %v, want the write error", err)
			}
			// The error sticks, so that the caller's loop stops and its deferred Close agrees.
			if err := p.Add(pools[0]); !errors.Is(err, errPipe) {
				t.Errorf("Add after a failed write: %v", err)
			}
			if err := p.Close(); !errors.Is(err, errPipe) {
				t.Errorf("Close after a failed write: %v", err)
			}
		})
	}
}

func TestListPrinterEmptyJSONWriteError(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	ios.Out = &failingWriter{}
	if err := NewListPrinter(ios, OutputJSON, poolColumns).Close(); !errors.Is(err, errPipe) {
		t.Fatalf("got %v, want the write error", err)
	}
}

func TestListPrinterMarshalError(t *testing.T) {
	ios, _, stdout, _ := iostreams.Test()
	p := NewListPrinter(ios, OutputJSON, []Column[any]{})
	if err := p.Add(func() {}); err == nil {
		t.Fatal("marshalling a func succeeded")
	}
	if err := p.Close(); err != nil || stdout.String() != "[]\n" {
		t.Fatalf("after a failed item: %v, %q", err, stdout)
	}
}

func TestPrintObject(t *testing.T) {
	tests := []struct {
		format OutputFormat
		tty    bool
		want   string
	}{
		{OutputDefault, true, "" +
			"ID            pools/1\n" +
			"DISPLAY NAME  Main\n" +
			"WALLETS       12\n"},
		{OutputDefault, false, "ID\tpools/1\nDISPLAY NAME\tMain\nWALLETS\t12\n"},
		{OutputJSON, false, "" +
			"{\n" +
			"  \"id\": \"pools/1\",\n" +
			"  \"displayName\": \"Main\",\n" +
			"  \"walletCount\": 12,\n" +
			"  \"tags\": [\n" +
			"    \"prod\",\n" +
			"    \"eu\"\n" +
			"  ]\n" +
			"}\n"},
		{OutputJSONL, false, `{"id":"pools/1","displayName":"Main","walletCount":12,"tags":["prod","eu"]}` + "\n"},
		{OutputCSV, false, "id,displayName,walletCount\npools/1,Main,12\n"},
		{OutputYAML, false, "id: pools/1\ndisplayName: Main\nwalletCount: 12\ntags:\n  - prod\n  - eu\n"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s tty=%v", tt.format, tt.tty), func(t *testing.T) {
			ios, _, stdout, _ := iostreams.Test()
			ios.SetStdoutTTY(tt.tty)
			if err := PrintObject(ios, tt.format, pools[0], poolColumns); err != nil {
				t.Fatal(err)
			}
			if got := stdout.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s\n(got %q)", got, tt.want, got)
			}
		})
	}
}

func TestPrintObjectWriteError(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	ios.Out = &failingWriter{}
	for _, format := range []OutputFormat{OutputTable, OutputJSON, OutputCSV} {
		if err := PrintObject(ios, format, pools[0], poolColumns); !errors.Is(err, errPipe) {
			t.Errorf("%s: got %v, want the write error", format, err)
		}
	}
}

func TestOutputFormatResolve(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	if got := OutputDefault.Resolve(ios); got != OutputTSV {
		t.Errorf("piped default = %q, want tsv", got)
	}
	ios.SetStdoutTTY(true)
	if got := OutputDefault.Resolve(ios); got != OutputTable {
		t.Errorf("terminal default = %q, want table", got)
	}
	if got := OutputJSON.Resolve(ios); got != OutputJSON {
		t.Errorf("explicit json = %q", got)
	}
	var o OutputFormat
	if err := o.Set("tsv"); err != nil || o.Resolve(ios) != OutputTSV {
		t.Errorf("-o tsv: %v, resolves to %q", err, o.Resolve(ios))
	}
}

// A listing that fails part way must not look complete: the JSON array is
// left open, so a tool reading it fails too.
func TestAbortLeavesJSONUnterminated(t *testing.T) {
	ios, _, stdout, _ := iostreams.Test()
	p := NewListPrinter(ios, OutputJSON, poolColumns)
	for i := range 3 {
		if err := p.Add(pool{ID: fmt.Sprintf("pools/%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Abort(); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(stdout.Bytes(), &v); err == nil {
		t.Fatalf("an aborted listing parses as complete JSON: %s", stdout)
	}
	if !strings.Contains(stdout.String(), "pools/2") {
		t.Fatalf("the items printed before the failure are lost: %s", stdout)
	}
}
