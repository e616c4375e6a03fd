package cmdutil

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"
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
	// Header is the table's header, for a person: by the convention of the GitHub CLI upper
	// case, words separated by spaces: "CREATED AT".
	Header string
	// Field names the column in the header row of TSV and CSV, for a program: the JSON field it
	// shows ("createTime", or a dotted path such as "current.name"). Empty means Header in
	// lower camel case ("CREATED AT" is "createdAt"); see FieldName.
	Field string
	// Hidden leaves the column out of the table only: TSV and CSV always have the same columns,
	// so that a script reading them by position does not break when a run has more to say.
	Hidden bool
	Value  func(T) string
}

// FieldName is the column's name in TSV and CSV header rows: Field, or Header in lower camel
// case, its words being what is left between characters other than letters and digits
// ("DISPLAY NAME" is "displayName", "USED %" is "used").
func (c Column[T]) FieldName() string {
	if c.Field != "" {
		return c.Field
	}
	words := strings.FieldsFunc(c.Header, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var b strings.Builder
	for i, w := range words {
		w = strings.ToLower(w)
		if i > 0 {
			r, size := utf8.DecodeRuneInString(w)
			w = string(unicode.ToUpper(r)) + w[size:]
		}
		b.WriteString(w)
	}
	return b.String()
}

// ListPrinter prints a list in the chosen format as items arrive, so that a long enumeration
// shows its first results at once and `| head` can stop it early. Only the table waits for Close,
// because its column widths depend on every row. A ListPrinter is not safe for concurrent use.
type ListPrinter[T any] struct {
	w      io.Writer
	fw     *flushWriter // w when the format streams; flushed at Close
	format OutputFormat
	cols   []Column[T]

	noHeaders bool // --no-headers
	tsvHeader bool // -o tsv by name: a header row of field names

	n      int
	rows   [][]string  // table only
	csv    *csv.Writer // csv only, created with the header on first use
	err    error       // the first write error; every later call returns it
	closed bool
}

// NewListPrinter returns a printer for cols writing to ios.Out. format is normally f.Output; the
// default resolves to a table on a terminal and TSV when piped (see OutputFormat.Resolve).
func NewListPrinter[T any](ios *iostreams.IOStreams, format OutputFormat, cols []Column[T]) *ListPrinter[T] {
	p := &ListPrinter[T]{w: ios.Out, format: format.Resolve(ios), cols: cols, noHeaders: ios.NoHeaders(), tsvHeader: ios.TSVHeader()}
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
		if p.n == 0 && p.tsvHeader {
			buf = []byte(strings.Join(p.fieldNames(), "\t") + "\n")
		}
		buf = append(buf, strings.Join(p.values(item), "\t")+"\n"...)
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
		var headers []string
		if !p.noHeaders {
			headers = p.tableHeaders()
		}
		b, err := renderTable(headers, p.tableRows())
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
	case OutputTSV:
		if p.n == 0 && p.tsvHeader {
			return p.write([]byte(strings.Join(p.fieldNames(), "\t") + "\n"))
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
		if !p.noHeaders {
			_ = p.csv.Write(p.fieldNames())
		}
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

// tableHeaders are the headers of the columns the table shows.
func (p *ListPrinter[T]) tableHeaders() []string {
	var h []string
	for _, c := range p.cols {
		if !c.Hidden {
			h = append(h, c.Header)
		}
	}
	return h
}

// tableRows are the queued rows without the hidden columns.
func (p *ListPrinter[T]) tableRows() [][]string {
	if !slices.ContainsFunc(p.cols, func(c Column[T]) bool { return c.Hidden }) {
		return p.rows
	}
	rows := make([][]string, len(p.rows))
	for i, r := range p.rows {
		for j, c := range p.cols {
			if !c.Hidden {
				rows[i] = append(rows[i], r[j])
			}
		}
	}
	return rows
}

// fieldNames is the header row of TSV and CSV: every column, by field name.
func (p *ListPrinter[T]) fieldNames() []string {
	h := make([]string, len(p.cols))
	for i, c := range p.cols {
		h[i] = c.FieldName()
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
//
// With nil cols, the table, TSV and CSV show the object's top-level JSON fields, in order, by
// name: a nested value as compact JSON, null as an empty cell.
func PrintObject[T any](ios *iostreams.IOStreams, format OutputFormat, v T, cols []Column[T]) error {
	var out []byte
	format = format.Resolve(ios)
	if cols == nil && (format == OutputTable || format == OutputTSV || format == OutputCSV) {
		fields, err := jsonFields(v)
		if err != nil {
			return err
		}
		return PrintObject(ios, format, fields, fieldColumns(fields))
	}
	switch format {
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
		// -o tsv by name names the fields as TSV and CSV headers do; the piped default keeps the
		// table's labels. --no-headers has no header row to drop here: the first column is the
		// object's keys.
		var rows [][]string
		for _, c := range cols {
			if c.Hidden && format == OutputTable {
				continue
			}
			key := c.Header
			if format == OutputTSV && ios.TSVHeader() {
				key = c.FieldName()
			}
			rows = append(rows, []string{key, flatten(c.Value(v))})
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

// jsonField is one top-level field of an object's JSON form, for PrintObject without columns.
type jsonField struct{ Name, Value string }

// jsonFields is v's JSON form as its top-level fields, in order; a value that is not an object
// is one field named "value".
func jsonFields(v any) ([]jsonField, error) {
	b, err := marshalJSON(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return []jsonField{{"value", cellValue(b)}}, nil
	}
	var fields []jsonField
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		k, _ := key.(string)
		fields = append(fields, jsonField{k, cellValue(raw)})
	}
	return fields, nil
}

// cellValue is a JSON value as a cell: a string unquoted, null empty, anything else as JSON.
func cellValue(raw []byte) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// fieldColumns makes one column per field, named by it, for an object printed as its fields.
func fieldColumns(fields []jsonField) []Column[[]jsonField] {
	cols := make([]Column[[]jsonField], len(fields))
	for i, f := range fields {
		cols[i] = Column[[]jsonField]{Header: f.Name, Field: f.Name, Value: func(fs []jsonField) string { return fs[i].Value }}
	}
	return cols
}

// HumanText reports whether a command may print its own text for a person rather than a format:
// on a terminal with no -o (or -o table), or piped with no -o, where scripts have always read it.
// An -o tsv or csv asked for by name must get the format.
func HumanText(format OutputFormat) bool {
	return format == OutputDefault || format == OutputTable
}
