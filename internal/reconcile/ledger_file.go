package reconcile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// fileLedger is a CSV file with a header naming at least the kind and
// name columns (owner optional, other columns ignored), or a JSONL file of
// {"kind": ..., "name": ..., "owner": ...} objects. Both are read a line at
// a time.
type fileLedger struct {
	path   string
	format string // csv | jsonl
}

func (l *fileLedger) String() string { return l.format + " " + l.path }
func (l *fileLedger) Close() error   { return nil }

func (l *fileLedger) Scan(ctx context.Context, kinds []Kind, fn func(Entry) error) error {
	f, err := fsutil.Open(ctx, l.path)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &LedgerError{Ledger: l.String(), Err: err}
	}
	defer f.Close()
	want := func(k Kind) bool { return slices.Contains(kinds, k) }
	if l.format == "csv" {
		err = scanCSV(ctx, f, want, fn)
	} else {
		err = scanJSONL(ctx, f, want, fn)
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // the read ended because the file was closed on a signal
	}
	var le *LedgerError
	if errors.As(err, &le) && le.Ledger == "" {
		le.Ledger = l.String()
	}
	return err
}

// checkEvery is how many rows pass between looks at the context.
const checkEvery = 4096

func scanCSV(ctx context.Context, r io.Reader, want func(Kind) bool, fn func(Entry) error) error {
	// encoding/csv holds a whole record, however long: the line cap bounds it.
	cr := csv.NewReader(fsutil.LineLimitReader(r, maxLine))
	cr.FieldsPerRecord = -1 // checked below, with a clearer message
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return &LedgerError{Where: "line 1", Err: errors.New("empty file: want a header line kind,name[,owner]")}
	}
	if err != nil {
		return csvError(err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; dup && h != "" {
			return &LedgerError{Where: "line 1", Err: fmt.Errorf("column %q appears twice in the header", h)}
		}
		col[h] = i
	}
	kindCol, okK := col["kind"]
	nameCol, okN := col["name"]
	ownerCol, okO := col["owner"]
	if !okK || !okN {
		return &LedgerError{Where: "line 1", Err: fmt.Errorf("the header %q lacks kind and name columns: want kind,name[,owner]", clip(strings.Join(header, ",")))}
	}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return csvError(err)
		}
		if n%checkEvery == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && rec[0] == "" {
			continue // a blank line
		}
		if len(rec) != len(header) {
			return &LedgerError{Where: fmt.Sprintf("line %d", line), Err: fmt.Errorf("%d fields, the header has %d", len(rec), len(header))}
		}
		kind, ok := ParseKind(rec[kindCol])
		if !ok {
			l, c := cr.FieldPos(kindCol)
			return &LedgerError{Where: fmt.Sprintf("line %d, column %d", l, c), Err: fmt.Errorf("kind %q: want operation, wallet or device_group", clip(rec[kindCol]))}
		}
		if !want(kind) {
			continue
		}
		name, err := Normalize(kind, rec[nameCol])
		if err != nil {
			l, c := cr.FieldPos(nameCol)
			return &LedgerError{Where: fmt.Sprintf("line %d, column %d", l, c), Err: err}
		}
		e := Entry{Kind: kind, Name: name, Where: fmt.Sprintf("line %d", line)}
		if okO {
			e.Owner = strings.TrimSpace(rec[ownerCol])
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

func csvError(err error) error {
	var tl *fsutil.LineTooLongError
	if errors.As(err, &tl) {
		return &LedgerError{Where: fmt.Sprintf("line %d", tl.Line), Err: fmt.Errorf("longer than %s: not a CSV ledger?", fsutil.FormatSize(int64(tl.Limit)))}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LedgerError{Where: fmt.Sprintf("line %d, column %d", pe.Line, pe.Column), Err: pe.Err}
	}
	return &LedgerError{Err: err}
}

// maxLine bounds one CSV or JSONL line, so a file that is not a ledger (one
// huge line, /dev/zero) fails fast instead of being read into memory.
const maxLine = 1 << 20

type jsonlEntry struct {
	Kind  *string `json:"kind"`
	Name  *string `json:"name"`
	Owner *string `json:"owner"`
}

func scanJSONL(ctx context.Context, r io.Reader, want func(Kind) bool, fn func(Entry) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for line := 1; ; line++ {
		buf = buf[:0]
		for {
			chunk, err := br.ReadSlice('\n')
			buf = append(buf, chunk...)
			if len(buf) > maxLine {
				return &LedgerError{Where: fmt.Sprintf("line %d", line), Err: fmt.Errorf("longer than %d bytes: not a JSONL ledger?", maxLine)}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return &LedgerError{Err: err}
			}
			break
		}
		if len(buf) == 0 {
			return nil
		}
		if line%checkEvery == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		data := bytes.TrimSpace(buf)
		if line == 1 {
			data = bytes.TrimPrefix(data, []byte("\ufeff")) // a BOM some editors write
		}
		if len(data) == 0 {
			continue
		}
		var je jsonlEntry
		if err := json.Unmarshal(data, &je); err != nil {
			return &LedgerError{Where: jsonWhere(line, buf, err), Err: jsonMessage(err)}
		}
		switch {
		case je.Kind == nil:
			return &LedgerError{Where: fmt.Sprintf("line %d", line), Err: errors.New(`no "kind": want {"kind": "wallet", "name": "...", "owner": "..."}`)}
		case je.Name == nil:
			return &LedgerError{Where: fmt.Sprintf("line %d", line), Err: errors.New(`no "name": want {"kind": "wallet", "name": "...", "owner": "..."}`)}
		}
		kind, ok := ParseKind(*je.Kind)
		if !ok {
			return &LedgerError{Where: fmt.Sprintf("line %d", line), Err: fmt.Errorf("kind %q: want operation, wallet or device_group", clip(*je.Kind))}
		}
		if !want(kind) {
			continue
		}
		name, err := Normalize(kind, *je.Name)
		if err != nil {
			return &LedgerError{Where: fmt.Sprintf("line %d", line), Err: err}
		}
		e := Entry{Kind: kind, Name: name, Where: fmt.Sprintf("line %d", line)}
		if je.Owner != nil {
			e.Owner = strings.TrimSpace(*je.Owner)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// jsonWhere names the line and, for syntax errors, the column.
func jsonWhere(line int, raw []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		lead := len(raw) - len(bytes.TrimLeft(raw, " \t"))
		return fmt.Sprintf("line %d, column %d", line, lead+int(se.Offset))
	}
	return fmt.Sprintf("line %d", line)
}

func jsonMessage(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%q must be a string, not a JSON %s", te.Field, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not a JSON object: %v", se)
	}
	return fmt.Errorf("not a JSON object: %v", err)
}
