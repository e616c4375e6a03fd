package reconcile

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzLedgerFiles: whatever a CSV or JSONL ledger holds, reading it ends
// in entries whose names are normal (normalising again changes nothing) or
// in one one-line LedgerError; never a panic.
func FuzzLedgerFiles(f *testing.F) {
	f.Add("kind,name,owner\nwallet,"+wal+",alice\noperation,"+opID+",\n", true)
	f.Add("kind,name\nwallet,\"x\ny\"\n", true)
	f.Add(`{"kind":"device_group","name":"`+grp+`","owner":"a"}`+"\n{\n", false)
	f.Add(`{"kind":"operation","name":"/`+strings.ToUpper(op)+`/"}`, false)
	f.Fuzz(func(t *testing.T, data string, isCSV bool) {
		scan := scanJSONL
		if isCSV {
			scan = scanCSV
		}
		err := scan(context.Background(), bytes.NewReader([]byte(data)), func(Kind) bool { return true }, func(e Entry) error {
			again, err := Normalize(e.Kind, e.Name.String())
			if err != nil || again.String() != e.Name.String() {
				t.Fatalf("%s %q is not normal: %+v %v", e.Kind, e.Name, again, err)
			}
			return nil
		})
		if err == nil {
			return
		}
		var le *LedgerError
		if !errors.As(err, &le) {
			t.Fatalf("error %T %v is not a LedgerError", err, err)
		}
		if strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("error is not one line: %q", err)
		}
	})
}
