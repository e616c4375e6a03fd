package cmdutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

func applyFilter(t *testing.T, f *JSONFilter, data string, pretty bool) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := f.Apply(context.Background(), &out, []byte(data), pretty)
	return out.String(), err
}

// As gh prints --jq results: a string raw, anything else as JSON, one result a line; a JSON
// Lines input is filtered value by value.
func TestJQ(t *testing.T) {
	list := `[{"name":"pools/1","displayName":"Main","n":12345678901234567890},{"name":"pools/2","displayName":"Retail"}]`
	for _, tc := range []struct{ expr, in, want string }{
		{".[].displayName", list, "Main\nRetail\n"},
		{".[0]", list, `{"displayName":"Main","n":12345678901234567890,"name":"pools/1"}` + "\n"},
		{"length", list, "2\n"},
		{"[.[].name]", list, `["pools/1","pools/2"]` + "\n"},
		{".name", "{\"name\":\"a\"}\n{\"name\":\"b\"}\n", "a\nb\n"},
		{"empty", list, ""},
		{"$ENV | length", list, "0\n"},
		{"env | length", list, "0\n"},
	} {
		f, err := NewJQFilter(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		got, err := applyFilter(t, f, tc.in, false)
		if err != nil || got != tc.want {
			t.Errorf("--jq %s: got %q, %v; want %q", tc.expr, got, err, tc.want)
		}
	}
}

// A bad expression is a one-line usage error that says what is wrong, before anything runs.
func TestJQBadExpression(t *testing.T) {
	for expr, want := range map[string]string{
		".[":          "--jq: the expression ends too early (unexpected EOF)",
		".foo | bar(": "--jq: the expression ends too early",
		".a | ]":      `--jq: unexpected token "]" at character 6 of the expression`,
		"nosuchfn":    "--jq: function not defined: nosuchfn/0",
		"$undefined":  "--jq: variable not defined: $undefined",
	} {
		_, err := NewJQFilter(expr)
		var fe *FlagError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("--jq %q: got %v, want a one-line usage error starting %q", expr, err, want)
		}
	}
}

// An expression that fails on the data is an error (exit 1), after what it printed before.
func TestJQRuntimeError(t *testing.T) {
	f, _ := NewJQFilter(".[] | .name")
	got, err := applyFilter(t, f, `[{"name":"a"},3]`, false)
	if err == nil || got != "a\n" || !strings.HasPrefix(err.Error(), "--jq: expected an object but got: number") {
		t.Errorf("got %q, %v", got, err)
	}
	got, err = applyFilter(t, f, `[{"name":"a"`, false)
	if err == nil || !strings.Contains(err.Error(), "not JSON") || got != "" {
		t.Errorf("truncated input: got %q, %v", got, err)
	}
}

// On a terminal a raw string cannot send escape sequences; a pipe gets the data as it is.
func TestJQTerminalSafety(t *testing.T) {
	f, _ := NewJQFilter(".[]")
	in := `["a\u001b[2Jb\tc", {"k":"\u202e"}]`
	got, _ := applyFilter(t, f, in, true)
	if strings.ContainsRune(got, '\x1b') || strings.ContainsRune(got, '\u202e') || !strings.Contains(got, "b\tc") {
		t.Errorf("terminal: %q", got)
	}
	got, _ = applyFilter(t, f, in, false)
	if !strings.Contains(got, "a\x1b[2Jb\tc\n") {
		t.Errorf("pipe: %q", got)
	}
}

func TestTemplate(t *testing.T) {
	list := `[{"name":"pools/1","displayName":"Main","createTime":"2026-03-14T12:09:26Z","tags":["a","b"],"n":12345678901234567890}]`
	for _, tc := range []struct{ tmpl, want string }{
		{`{{range .}}{{.name}}	{{.displayName}}{{"\n"}}{{end}}`, "pools/1\tMain\n"},
		{`{{range .}}{{join "," .tags}} {{.n}}{{end}}`, "a,b 12345678901234567890"},
		{`{{json (index . 0).tags}}`, `["a","b"]`},
		{`{{join " " (pluck "name" .)}}`, "pools/1"},
		{`{{range .}}{{timefmt "2006-01-02" .createTime}} {{timeago .createTime}}{{end}}`, "2026-03-14 3 hours ago"},
		{`{{range .}}{{truncate 5 .displayName}}|{{truncate 6 "waasctl"}}{{end}}`, "Main|waa..."},
	} {
		f, err := NewTemplateFilter(tc.tmpl)
		if err != nil {
			t.Fatalf("%s: %v", tc.tmpl, err)
		}
		f.now = func() time.Time { return time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC) }
		got, err := applyFilter(t, f, list, false)
		if err != nil || got != tc.want {
			t.Errorf("--template %s: got %q, %v; want %q", tc.tmpl, got, err, tc.want)
		}
	}
	_, err := NewTemplateFilter("{{.name")
	var fe *FlagError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "--template:1: unclosed action") {
		t.Errorf("bad template: %v", err)
	}
	f, _ := NewTemplateFilter(`{{timeago .}}`)
	if _, err := applyFilter(t, f, `3`, false); err == nil || !strings.Contains(err.Error(), "timeago: expected an RFC 3339 time string, got a number") {
		t.Errorf("timeago on a number: %v", err)
	}
}

// --jq implies -o json, refuses another -o, and the command's output reaches stdout filtered.
func TestPrepareOutput(t *testing.T) {
	ios, _, stdout, _ := iostreams.Test()
	f := &Factory{IOStreams: ios, JQ: ".[].displayName"}
	if err := f.PrepareOutput(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.Output != OutputJSON {
		t.Errorf("-o is %q, want json", f.Output)
	}
	if err := PrintList(ios, f.Output, pools, poolColumns); err != nil {
		t.Fatal(err)
	}
	if err := f.FinishOutputFilter(nil); err != nil {
		t.Fatal(err)
	}
	if want := "Main\ntab\there, \"quoted\" <b>\n"; stdout.String() != want {
		t.Errorf("got %q, want %q", stdout.String(), want)
	}

	for _, tc := range []struct {
		f    *Factory
		want string
	}{
		{&Factory{JQ: ".", Output: OutputCSV}, "--jq works on the JSON output, not -o csv"},
		{&Factory{JQ: ".", Template: "x"}, "--jq and --template both format the output"},
		{&Factory{Template: "{{"}, "--template:1: unclosed action"},
	} {
		tc.f.IOStreams = ios
		var fe *FlagError
		if err := tc.f.PrepareOutput(context.Background()); !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want a usage error with %q", err, tc.want)
		}
	}
}

// JSON Lines are filtered as each line comes (audit operations --watch never ends); a document
// that a failed command left cut short is not filtered at all.
func TestOutputFilterStreams(t *testing.T) {
	ios, _, stdout, _ := iostreams.Test()
	f := &Factory{IOStreams: ios, JQ: ".name"}
	if err := f.PrepareOutput(context.Background()); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(ios.Out, `{"name":"a \"}]\\"}`+"\n"+`{"name":`)
	if want := "a \"}]\\\n"; stdout.String() != want {
		t.Fatalf("after one whole line: %q, want %q", stdout.String(), want)
	}
	fmt.Fprint(ios.Out, `"b"}`+"\n"+`{"name":"c"`)
	if want := "a \"}]\\\nb\n"; stdout.String() != want {
		t.Fatalf("after two lines: %q, want %q", stdout.String(), want)
	}
	boom := errors.New("listing failed")
	if err := f.FinishOutputFilter(boom); err != boom {
		t.Fatalf("FinishOutputFilter = %v, want the command's error", err)
	}
	if ios.Out != stdout || strings.Contains(stdout.String(), "c") {
		t.Errorf("stdout not given back, or the cut value filtered: %q", stdout.String())
	}

	// A filter error stops the command's next write.
	f = &Factory{IOStreams: ios, JQ: ".name"}
	_ = f.PrepareOutput(context.Background())
	if _, err := fmt.Fprint(ios.Out, "[1]\n"); err == nil || !strings.Contains(err.Error(), "--jq: expected an object") {
		t.Errorf("write through a failing filter: %v", err)
	}
	if err := f.FinishOutputFilter(nil); err == nil {
		t.Error("the filter's error was lost")
	}
}

// Whatever the expression or template, the filter returns an error or output, never a panic.
func FuzzJQ(f *testing.F) {
	for _, s := range []string{".", ".[]", ".[0].name", "path(..)", "limit(3; repeat(1))", "tojson|fromjson", "@base64d", "ltrimstr(1)", "getpath([\"a\",0])", "splits(\"a\")", "$__loc__", "input", "debug", "stderr", "halt_error", "error(null)", "[.[]|tostring]|join(1)", "def f: f; f"} {
		f.Add(s)
	}
	data := []byte(`[{"name":"pools/1","n":1.5,"tags":["a"]},null,"x"]`)
	f.Fuzz(func(t *testing.T, expr string) {
		fl, err := NewJQFilter(expr)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := fl.Apply(ctx, &bytes.Buffer{}, data, false); errors.Is(err, errFilterPanic) {
			t.Fatalf("--jq %q: %v", expr, err)
		}
	})
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"{{.}}", "{{range .}}{{.name}}{{end}}", "{{json .}}", "{{join 1 2}}", "{{pluck . .}}", "{{truncate -1 .}}", "{{timefmt . .}}", "{{timeago .}}", "{{index . 9}}", "{{slice . 1 0}}", "{{call .}}"} {
		f.Add(s)
	}
	data := []byte(`[{"name":"pools/1","n":1.5,"t":"2026-01-01T00:00:00Z","tags":["a"]},null,"x"]`)
	f.Fuzz(func(t *testing.T, text string) {
		fl, err := NewTemplateFilter(text)
		if err != nil {
			return
		}
		if err := fl.Apply(context.Background(), &bytes.Buffer{}, data, false); errors.Is(err, errFilterPanic) {
			t.Fatalf("--template %q: %v", text, err)
		}
	})
}

// However a command's JSON output is cut into writes, the filter prints what it prints for the
// whole output at once (the bracket counting finds the same values), and never panics.
func FuzzOutputFilterWriter(f *testing.F) {
	for _, s := range []string{`[{"a":"]"}]`, "{\"a\":1}\n{\"a\":\"\\\"}\"}\n", `"x" 1 [2]`, `{"a":[{"b":"\\\\"}]}`, `]]{`, `[`} {
		f.Add(s, uint(3))
	}
	f.Fuzz(func(t *testing.T, data string, cut uint) {
		jq, err := NewJQFilter(".")
		if err != nil {
			t.Fatal(err)
		}
		var whole bytes.Buffer
		wholeErr := jq.Apply(context.Background(), &whole, []byte(data), false)

		ios, _, stdout, _ := iostreams.Test()
		fac := &Factory{IOStreams: ios, JQ: "."}
		if err := fac.PrepareOutput(context.Background()); err != nil {
			t.Fatal(err)
		}
		n := int(cut % uint(len(data)+1))
		_, err1 := io.WriteString(ios.Out, data[:n])
		_, err2 := io.WriteString(ios.Out, data[n:])
		err = fac.FinishOutputFilter(nil)
		if errors.Is(err, errFilterPanic) {
			t.Fatalf("%q: %v", data, err)
		}
		if wholeErr == nil && (err1 != nil || err2 != nil || err != nil || stdout.String() != whole.String()) {
			t.Errorf("%q cut at %d: got %q (%v %v %v), want %q", data, n, stdout.String(), err1, err2, err, whole.String())
		}
	})
}
