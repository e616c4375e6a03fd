package cmdutil

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/itchyny/gojq"

	"github.com/waasctl/waasctl/internal/textsafe"
)

// JSONFilter turns the JSON a command prints into what --jq or --template asks for, so that a
// runbook needs no jq of its own. It is built, and the expression checked, before the command
// runs: a typo in it is a usage error (exit 2) that costs no API call.
type JSONFilter struct {
	flag string // "--jq" or "--template", for messages
	code *gojq.Code
	tmpl *template.Template
	now  func() time.Time // for timeago
}

// errFilterPanic marks a panic in gojq or text/template turned into an error.
var errFilterPanic = errors.New("internal error")

// NewJQFilter compiles a jq expression (the gojq dialect, as gh uses).
func NewJQFilter(expr string) (*JSONFilter, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		var pe *gojq.ParseError
		if errors.As(err, &pe) && pe.Error() == "unexpected EOF" {
			return nil, FlagErrorf("--jq: the expression ends too early (unexpected EOF): is something missing at its end?")
		}
		if errors.As(err, &pe) {
			return nil, FlagErrorf("--jq: %s at character %d of the expression", textsafe.Line(pe.Error()), pe.Offset)
		}
		return nil, FlagErrorf("--jq: %s", textsafe.Line(err.Error()))
	}
	// $ENV and env would otherwise read the process environment, where the API key's private key
	// may be (WAASCTL_API_KEY_PRIVATE_KEY): a filter must not be a way to print it.
	code, err := gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		return nil, FlagErrorf("--jq: %s", textsafe.Line(err.Error()))
	}
	return &JSONFilter{flag: "--jq", code: code, now: time.Now}, nil
}

// NewTemplateFilter parses a Go text/template, with the helpers in TemplateFuncs.
func NewTemplateFilter(text string) (*JSONFilter, error) {
	f := &JSONFilter{flag: "--template", now: time.Now}
	t, err := template.New("--template").Option("missingkey=default").Funcs(f.templateFuncs()).Parse(text)
	if err != nil {
		return nil, FlagErrorf("%s", textsafe.Line(strings.TrimPrefix(err.Error(), "template: ")))
	}
	f.tmpl = t
	return f, nil
}

// Apply reads the JSON values in data (one document, or JSON Lines) and writes, for each, what
// the filter makes of it to w. For --jq a string result is written raw and any other as JSON,
// one result a line (indented when pretty); --template writes what the template prints.
// On a terminal (pretty) the characters textsafe rejects are replaced, as in every other format;
// a pipe gets the data as it is.
func (f *JSONFilter) Apply(ctx context.Context, w io.Writer, data []byte, pretty bool) (err error) {
	defer func() {
		// Neither gojq nor text/template should panic on any input; if one does, it is a
		// failed command, not a crash with a stack trace.
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %w: %v", f.flag, errFilterPanic, r)
		}
	}()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out bytes.Buffer
	for {
		var v any
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("%s: the command's output is not JSON: %v", f.flag, err)
		}
		if f.code != nil {
			err = f.runJQ(ctx, &out, v, pretty)
		} else {
			err = f.tmpl.Execute(&out, v)
			if err != nil {
				err = errors.New(textsafe.Line(strings.TrimPrefix(err.Error(), "template: "))) // "--template:LINE:COL: ..." names the flag
			}
		}
		if err != nil {
			w.Write(sanitizeOutput(out.Bytes(), pretty)) // what came before the error, as jq does
			return err
		}
	}
	_, err = w.Write(sanitizeOutput(out.Bytes(), pretty))
	return err
}

func (f *JSONFilter) runJQ(ctx context.Context, out *bytes.Buffer, v any, pretty bool) error {
	iter := f.code.RunWithContext(ctx, v)
	for {
		r, ok := iter.Next()
		if !ok {
			return nil
		}
		switch r := r.(type) {
		case *gojq.HaltError:
			if r.Value() == nil {
				return nil // halt: stop without an error
			}
			return fmt.Errorf("--jq: %s", textsafe.Line(r.Error()))
		case error:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("--jq: %s", textsafe.Line(r.Error()))
		case string:
			out.WriteString(r)
		default:
			b, err := gojq.Marshal(r)
			if err != nil {
				return fmt.Errorf("--jq: %v", err)
			}
			if pretty {
				var ind bytes.Buffer
				if json.Indent(&ind, b, "", "  ") == nil {
					b = ind.Bytes()
				}
			}
			out.Write(escapeUnsafe(b))
		}
		out.WriteByte('\n')
	}
}

// sanitizeOutput keeps a filter's raw text from sending control characters or bidi overrides to
// a terminal (line breaks and tabs stay: templates lay out with them). A pipe gets it unchanged.
func sanitizeOutput(b []byte, terminal bool) []byte {
	if !terminal {
		return b
	}
	var out bytes.Buffer
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == '\n' || r == '\t':
			out.WriteRune(r)
		case r == utf8.RuneError && size == 1, unicode.IsControl(r), textsafe.Unsafe(r):
			out.WriteRune(utf8.RuneError)
		default:
			out.Write(b[:size])
		}
		b = b[size:]
	}
	return out.Bytes()
}

// TemplateHelpers names the functions --template offers beyond text/template's own, for help
// and docs.
const TemplateHelpers = "json, join, pluck, truncate, timefmt, timeago"

// templateFuncs are the helpers of --template, after gh's: json VALUE (compact JSON), join SEP
// LIST, pluck FIELD LIST (that field of each object), truncate N TEXT, timefmt LAYOUT TIME (Go
// layout), timeago TIME ("3 hours ago"). TIME is an RFC 3339 string.
func (f *JSONFilter) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := marshalJSON(v)
			return string(b), err
		},
		"join": func(sep string, list any) (string, error) {
			items, err := asList("join", list)
			if err != nil {
				return "", err
			}
			s := make([]string, len(items))
			for i, it := range items {
				s[i] = scalarString(it)
			}
			return strings.Join(s, sep), nil
		},
		"pluck": func(field string, list any) ([]any, error) {
			items, err := asList("pluck", list)
			if err != nil {
				return nil, err
			}
			var out []any
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					out = append(out, m[field])
				}
			}
			return out, nil
		},
		"truncate": func(n int, v any) string {
			s := scalarString(v)
			if n < 1 {
				return ""
			}
			if utf8.RuneCountInString(s) <= n {
				return s
			}
			r := []rune(s)
			if n < 4 {
				return string(r[:n])
			}
			return string(r[:n-3]) + "..."
		},
		"timefmt": func(layout string, v any) (string, error) {
			t, err := parseTime("timefmt", v)
			if err != nil {
				return "", err
			}
			return t.Format(layout), nil
		},
		"timeago": func(v any) (string, error) {
			t, err := parseTime("timeago", v)
			if err != nil {
				return "", err
			}
			return timeAgo(f.now().Sub(t)), nil
		},
	}
}

func asList(fn string, v any) ([]any, error) {
	switch l := v.(type) {
	case []any:
		return l, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("%s: expected a list, got %s", fn, jsonKind(v))
}

func parseTime(fn string, v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("%s: expected an RFC 3339 time string, got %s", fn, jsonKind(v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %s is not an RFC 3339 time", fn, textsafe.Value(s))
	}
	return t, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, int, float64, *big.Int:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// scalarString is how join and truncate print a value: strings and numbers as they are, anything
// else as JSON.
func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	}
	b, err := marshalJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func timeAgo(d time.Duration) string {
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	case d < 30*24*time.Hour:
		s = plural(int(d/(24*time.Hour)), "day")
	case d < 365*24*time.Hour:
		s = plural(int(d/(30*24*time.Hour)), "month")
	default:
		s = plural(int(d/(365*24*time.Hour)), "year")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// filterWriter takes a command's JSON output in place of stdout and, as each top-level value
// ends, writes what the filter makes of it to the real stdout: JSON Lines (audit operations
// --watch) are filtered line by line as they come, a -o json document when it is whole. It finds
// where a value ends by counting brackets outside strings, so each value is decoded once.
type filterWriter struct {
	ctx    context.Context
	filter *JSONFilter
	stdout io.Writer // the real stdout
	pretty bool

	buf               []byte // output not filtered yet
	scanned           int    // bytes of buf already scanned
	depth             int
	inString, escaped bool
	err               error // the filter's first error; later writes fail with it
}

func (w *filterWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	for i := w.scanned; i < len(w.buf); i++ {
		end := false
		switch c := w.buf[i]; {
		case w.inString:
			switch {
			case w.escaped:
				w.escaped = false
			case c == '\\':
				w.escaped = true
			case c == '"':
				w.inString = false
				end = w.depth == 0
			}
		case c == '"':
			w.inString = true
		case c == '{' || c == '[':
			w.depth++
		case c == '}' || c == ']':
			w.depth--
			end = w.depth == 0
		}
		if !end {
			continue
		}
		if err := w.filter.Apply(w.ctx, w.stdout, w.buf[:i+1], w.pretty); err != nil {
			w.err = err
			return len(p), err
		}
		w.buf = w.buf[i+1:]
		i = -1
	}
	w.scanned = len(w.buf)
	return len(p), nil
}

// finish filters what is left (a top-level number, say), unless the command failed and left
// a document cut short, which is not filtered: a tool reading the result would take it for whole.
func (w *filterWriter) finish(cmdErr error) error {
	if w.err != nil {
		if cmdErr != nil {
			return cmdErr
		}
		return w.err
	}
	if cmdErr != nil && !validJSONStream(w.buf) {
		return cmdErr
	}
	err := w.filter.Apply(w.ctx, w.stdout, w.buf, w.pretty)
	if cmdErr != nil {
		return cmdErr
	}
	return err
}

// PrepareOutput applies the output flags before the command runs: --no-headers and -o tsv to the
// streams, and the filter --jq or --template asks for, if any, which makes the command print JSON
// (-o json is implied) through the filter until FinishOutputFilter. A bad expression, both flags
// at once, or an -o other than json with them is a usage error.
func (f *Factory) PrepareOutput(ctx context.Context) error {
	f.IOStreams.SetHeaderRows(f.NoHeaders, f.Output == OutputTSV)
	if f.JQ == "" && f.Template == "" {
		return nil
	}
	if f.JQ != "" && f.Template != "" {
		return FlagErrorf("--jq and --template both format the output: give one of them")
	}
	flag := "--jq"
	if f.Template != "" {
		flag = "--template"
	}
	if f.Output != OutputDefault && f.Output != OutputJSON {
		return FlagErrorf("%s works on the JSON output, not -o %s: drop -o (or use -o json)", flag, f.Output)
	}
	var filter *JSONFilter
	var err error
	if f.JQ != "" {
		filter, err = NewJQFilter(f.JQ)
	} else {
		filter, err = NewTemplateFilter(f.Template)
	}
	if err != nil {
		return err
	}
	f.Output = OutputJSON
	f.filter = &filterWriter{ctx: ctx, filter: filter, stdout: f.IOStreams.Out, pretty: f.IOStreams.IsStdoutTTY()}
	f.IOStreams.Out = f.filter
	return nil
}

// FinishOutputFilter filters what the command printed last, gives the command's streams their
// stdout back, and returns the error the run ends with: cmdErr if the command failed (its output
// is filtered all the same when it is whole JSON, as for audit findings, exit 3), else the
// filter's own error.
func (f *Factory) FinishOutputFilter(cmdErr error) error {
	w := f.filter
	if w == nil {
		return cmdErr
	}
	f.IOStreams.Out = w.stdout
	f.filter = nil
	return w.finish(cmdErr)
}

func validJSONStream(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var v json.RawMessage
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			return true
		} else if err != nil {
			return false
		}
	}
}
