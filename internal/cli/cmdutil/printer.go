package cmdutil

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"gopkg.in/yaml.v3"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// Column is one column of the table, TSV and CSV formats. The JSON, JSON Lines and YAML formats
// ignore columns and print the whole item, so a script that needs a field not in the table can
// always get it with -o json.
type Column[T any] struct {
	// Header is printed exactly as given, in the table header and the CSV header row. By the
	// convention of the GitHub CLI it is upper case, words separated by spaces: "CREATED AT".
	Header string
	Value  func(T) string
}

// ListPrinter prints a list in the chosen format as items arrive, so that a long enumeration
// shows its first results at once and `| head` can stop it early. Only the table waits for Close,
// because its column widths depend on every row. A ListPrinter is not safe for concurrent use.
type ListPrinter[T any] struct {
	w      io.Writer
	fw     *flushWriter // w when the format streams; flushed at Close
	format OutputFormat
	cols   []Column[T]

	n      int
	rows   [][]string  // table only
	csv    *csv.Writer // csv only, created with the header on first use
	err    error       // the first write error; every later call returns it
	closed bool
}

// NewListPrinter returns a printer for cols writing to ios.Out. format is normally f.Output; the
// default resolves to a table on a terminal and TSV when piped (see OutputFormat.Resolve).
func NewListPrinter[T any](ios *iostreams.IOStreams, format OutputFormat, cols []Column[T]) *ListPrinter[T] {
	p := &ListPrinter[T]{w: ios.Out, format: format.Resolve(ios), cols: cols}
	if p.format != OutputTable {
		p.fw = newFlushWriter(ios.Out)
		p.w = p.fw
	}
	return p
}

// Count returns how many items have been printed (or, for a table, queued), so that a command
// can say "no wallets found" on stderr when it is zero.
func (p *ListPrinter[T]) Count() int { return p.n }

// Add prints item, or queues it for a table. It returns the first write error, such as EPIPE
// when the reader of a pipe has gone away, and keeps returning it so that an enumeration loop
// stops at its next Add instead of fetching pages nobody will read.
func (p *ListPrinter[T]) Add(item T) error {
	if p.err != nil {
		return p.err
	}
	if p.closed {
		return errors.New("ListPrinter: Add after Close")
	}
	var buf []byte
	switch p.format {
	case OutputTable:
		p.rows = append(p.rows, p.values(item))
		p.n++
		return nil
	case OutputTSV:
		buf = []byte(strings.Join(p.values(item), "\t") + "\n")
	case OutputJSON, OutputJSONL:
		b, err := marshalJSON(item)
		if err != nil {
			return err
		}
		switch {
		case p.format == OutputJSONL:
			buf = append(b, '\n')
		case p.n == 0:
			buf = append([]byte("["), b...)
		default:
			buf = append([]byte(",\n"), b...)
		}
	case OutputCSV:
		p.n++
		return p.writeCSV(p.values(item))
	case OutputYAML:
		b, err := marshalYAML(item, true)
		if err != nil {
			return err
		}
		buf = b
	default:
		return fmt.Errorf("unsupported output format %q", p.format)
	}
	p.n++
	return p.write(buf)
}

// Close finishes the output: it renders the table, closes the JSON array, and prints what an
// empty list looks like in each format. An empty table prints nothing at all, not even the
// header, like TSV and JSON Lines; the caller decides whether to say so on stderr.
func (p *ListPrinter[T]) Close() error {
	if p.err != nil || p.closed {
		if p.fw != nil {
			p.fw.Close() // stop its goroutine; the error is already known
		}
		return p.err
	}
	p.closed = true
	if err := p.finish(); err != nil {
		if p.fw != nil {
			p.fw.Close()
		}
		return err
	}
	if p.fw != nil {
		if err := p.fw.Close(); err != nil {
			p.err = err
		}
	}
	return p.err
}

// Abort ends a listing that failed part way: what was printed stays, but
// nothing is added to make it look whole. A JSON array is left open, so
// that a tool reading it fails instead of taking a partial list for the
// estate. A table prints the rows it has, for the person reading it.
func (p *ListPrinter[T]) Abort() error {
	if p.err != nil || p.closed {
		return p.Close()
	}
	if p.format == OutputTable {
		return p.Close()
	}
	p.closed = true
	if p.fw != nil {
		if err := p.fw.Close(); err != nil && p.err == nil {
			p.err = err
		}
	}
	return p.err
}

// finish writes what the format puts after the last item.
func (p *ListPrinter[T]) finish() error {
	switch p.format {
	case OutputTable:
		if p.n == 0 {
			return nil
		}
		b, err := renderTable(p.headers(), p.rows)
		if err != nil {
			return err
		}
		p.rows = nil
		return p.write(b)
	case OutputJSON:
		if p.n == 0 {
			return p.write([]byte("[]\n"))
		}
		return p.write([]byte("]\n"))
	case OutputCSV:
		// A header with no rows still tells a spreadsheet or csvkit what the columns are.
		if p.n == 0 {
			return p.writeCSV(nil)
		}
	case OutputYAML:
		if p.n == 0 {
			return p.write([]byte("[]\n"))
		}
	}
	return nil
}

func (p *ListPrinter[T]) write(b []byte) error {
	if _, err := p.w.Write(b); err != nil {
		p.err = err
	}
	return p.err
}

// writeCSV writes the header on first use, then row if it is not nil, and flushes at once so that
// CSV streams like the other formats.
func (p *ListPrinter[T]) writeCSV(row []string) error {
	if p.csv == nil {
		p.csv = csv.NewWriter(p.w)
		_ = p.csv.Write(p.headers())
	}
	if row != nil {
		_ = p.csv.Write(row)
	}
	p.csv.Flush()
	if err := p.csv.Error(); err != nil {
		p.err = err
	}
	return p.err
}

func (p *ListPrinter[T]) headers() []string {
	h := make([]string, len(p.cols))
	for i, c := range p.cols {
		h[i] = c.Header
	}
	return h
}

// rawValues are the columns' values as they are.
func (p *ListPrinter[T]) rawValues(item T) []string {
	v := make([]string, len(p.cols))
	for i, c := range p.cols {
		v[i] = c.Value(item)
	}
	return v
}

// values is for the table, TSV and CSV, whose values are flattened: CSV's quoting copes with
// any value, but a CSV file is also read on a terminal, where an escape sequence in a name
// someone else chose must not arrive (JSON and YAML escape such characters losslessly).
func (p *ListPrinter[T]) values(item T) []string {
	v := p.rawValues(item)
	for i := range v {
		v[i] = flatten(v[i])
	}
	return v
}

// flatten makes a value safe for one cell (see textsafe.Line). A tab or a line break inside a
// value would break the one-line-per-item, one-field-per-column layout that cut, awk and the eye
// rely on, an escape sequence in a name that someone else chose (a pool's display name) must not
// reach the terminal, and a bidi override must not reorder the columns after it.
func flatten(s string) string { return textsafe.Line(s) }

// escapeUnsafe rewrites the characters textsafe.Unsafe reports that an encoder left raw as
// \uXXXX escapes, which JSON strings and YAML double-quoted scalars read back as the same
// character: the data is unchanged and the terminal sees no C1 control or bidi override.
// encoding/json escapes C0 but leaves DEL, C1 and bidi controls raw; yaml.v3 escapes all but the
// bidi controls, and only in the double-quoted style yamlString asks for. Outside strings both
// encoders write only ASCII, so every such character is inside a string.
func escapeUnsafe(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r >= 0x7f && textsafe.Unsafe(r) {
			if out == nil {
				out = append(make([]byte, 0, len(b)+16), b[:i]...)
			}
			out = fmt.Appendf(out, `\u%04X`, r)
		} else if out != nil {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	if out == nil {
		return b
	}
	return out
}

// PrintObject prints one object, for commands such as `pools get`:
//   - json: the object, indented, since a single object is usually read by a person or jq;
//   - jsonl: the object on one line;
//   - yaml: the object as a mapping (not a one-item sequence);
//   - csv: the header row and one row, as a one-item list;
//   - table: one "HEADER  value" line per column, aligned like a list table, because an object
//     usually has more fields than fit across a terminal;
//   - tsv (piped, no -o): one "HEADER<tab>value" line per column, so that a script can pick a
//     field with awk -F'\t' '$1 == "ID" {print $2}' without knowing the column order.
func PrintObject[T any](ios *iostreams.IOStreams, format OutputFormat, v T, cols []Column[T]) error {
	var out []byte
	switch format = format.Resolve(ios); format {
	case OutputJSON:
		b, err := marshalJSON(v)
		if err != nil {
			return err
		}
		var ind bytes.Buffer
		if err := json.Indent(&ind, b, "", "  "); err != nil {
			return err
		}
		out = append(ind.Bytes(), '\n')
	case OutputYAML:
		b, err := marshalYAML(v, false)
		if err != nil {
			return err
		}
		out = b
	case OutputJSONL, OutputCSV:
		return PrintList(ios, format, []T{v}, cols)
	case OutputTable, OutputTSV:
		rows := make([][]string, len(cols))
		for i, c := range cols {
			rows[i] = []string{c.Header, flatten(c.Value(v))}
		}
		if format == OutputTSV {
			var b strings.Builder
			for _, r := range rows {
				b.WriteString(r[0] + "\t" + r[1] + "\n")
			}
			out = []byte(b.String())
			break
		}
		b, err := renderTable(nil, rows)
		if err != nil {
			return err
		}
		out = b
	default:
		return fmt.Errorf("unsupported output format %q", format)
	}
	_, err := ios.Out.Write(out)
	return err
}

// renderTable lays rows out the way the GitHub CLI does on a terminal: no borders or rules,
// left-aligned, two spaces between columns, no trailing spaces. headers may be nil; no rows
// print nothing.
// tablewriter writes to a buffer so that a write error reaches the caller: its renderer ignores
// the errors of the writer it is given.
func renderTable(headers []string, rows [][]string) ([]byte, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
		})),
		// tablewriter upper-cases headers by default and also turns "_" and "." into spaces and
		// splits camelCase; headers are printed as the command wrote them instead.
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		// The gap is the right padding of every cell; the last column's is trimmed below.
		tablewriter.WithPadding(tw.Padding{Right: "  ", Overwrite: true}),
	)
	if headers != nil {
		t.Header(headers)
	}
	if err := t.Bulk(rows); err != nil {
		return nil, err
	}
	if err := t.Render(); err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}

// marshalJSON is json.Marshal without HTML escaping, so that "<", ">" and "&" in names and
// policies print as themselves rather than as \u003c and friends.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return escapeUnsafe(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// marshalYAML prints v as YAML with exactly the keys, key order and values of its JSON form, so
// that json tags, omitempty and custom MarshalJSON methods decide the output of both formats and
// -o yaml never shows a Go field name. With asItem it prints a one-item sequence ("- key: ..."),
// which, written once per item, streams a YAML list.
func marshalYAML(v any, asItem bool) ([]byte, error) {
	b, err := marshalJSON(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	node, err := yamlNode(dec)
	if err != nil {
		return nil, err
	}
	if asItem {
		node = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{node}}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return escapeUnsafe(buf.Bytes()), nil
}

// yaml11 matches the plain strings that YAML 1.1 readers (PyYAML, older Ruby and Java libraries)
// take for booleans or base-60 numbers. yaml.v3 quotes them when it marshals a Go string but
// not when it encodes a node it is told is a string, so yamlString does it.
var yaml11 = regexp.MustCompile(`^(?:[yYnN]|[Yy]es|YES|[Nn]o|NO|[Oo]n|ON|[Oo]ff|OFF|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$`)

func yamlString(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if yaml11.MatchString(s) || !textsafe.Safe(strings.ReplaceAll(s, "\n", "")) {
		// Double quotes for what is not safe to print as it is: the only style in which
		// escapeUnsafe may escape what the encoder leaves raw. A line break alone can stay in a
		// block scalar.
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// yamlNode reads one JSON value from dec and returns it as a YAML node. Object keys keep their
// order, which decoding into a map would lose. Scalars carry explicit tags so that the encoder
// quotes strings that would read back as something else ("true", "0x1f", "1e3", "null").
func yamlNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		var node *yaml.Node
		switch t {
		case '{':
			node = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		case '[':
			node = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		default:
			return nil, fmt.Errorf("unexpected JSON delimiter %q", t)
		}
		for dec.More() {
			if node.Kind == yaml.MappingNode {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := key.(string) // object keys are always strings
				node.Content = append(node.Content, yamlString(k))
			}
			child, err := yamlNode(dec)
			if err != nil {
				return nil, err
			}
			node.Content = append(node.Content, child)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return node, nil
	case string:
		return yamlString(t), nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(t.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	default:
		return nil, fmt.Errorf("unexpected JSON token %v", tok)
	}
}

// PrintList prints items that are already in memory (a report's rows) in
// format: the whole ListPrinter cycle in one call.
func PrintList[T any](ios *iostreams.IOStreams, format OutputFormat, items []T, cols []Column[T]) error {
	p := NewListPrinter(ios, format, cols)
	for _, it := range items {
		if err := p.Add(it); err != nil {
			return err
		}
	}
	return p.Close()
}
