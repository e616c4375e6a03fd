package team

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
)

// AppendEntry appends e to the shared audit log, chained to the entry before it exactly as the
// file log chains (auditlog.EncodeChained), naming this host (e.Host, unless set) and identity
// (the appender's age recipient, "" without one) in the entry, so that the chain covers them,
// and in the row. guard, as auditlog.Log's, refuses the profile's own keys in any field; an
// entry that looks like it holds a secret is refused (auditlog.ErrSecret) whatever the guard.
func (s *Store) AppendEntry(ctx context.Context, identity string, e auditlog.Entry, guard *credentials.Guard) (auditlog.Entry, error) {
	if e.Host == "" {
		e.Host = s.Host
	}
	// A recipient, never an identity: an AGE-SECRET-KEY passed here by mistake stops here.
	if identity != "" && !strings.HasPrefix(identity, "age1") {
		return auditlog.Entry{}, fmt.Errorf("audit entry not written: the identity to record is not an age recipient (age1...)")
	}
	if e.Identity == "" {
		e.Identity = identity
	}
	var out auditlog.Entry
	_, err := s.AppendAudit(ctx, identity, func(seq uint64, prev string) ([]byte, error) {
		entry, line, err := auditlog.EncodeChained(e, seq, prev, time.Now(), guard)
		out = entry
		return line, err
	})
	return out, err
}

// VerifyAudit checks the shared audit log with auditlog's verifier: every line an entry, seqs
// 1, 2, 3..., each chained to the one before, and each anchor still there. The table has no
// head file: a cut-off end is caught by anchors (log verify --anchor).
func (s *Store) VerifyAudit(ctx context.Context, anchors ...auditlog.Checkpoint) (auditlog.Report, error) {
	var buf bytes.Buffer
	var last auditlog.Checkpoint
	if err := s.AuditLines(ctx, func(a AuditLine) error {
		buf.Write(a.Line)
		buf.WriteByte('\n')
		last = auditlog.Checkpoint{Seq: a.Seq, Hash: a.Hash}
		return nil
	}); err != nil {
		return auditlog.Report{}, err
	}
	return auditlog.VerifyLines(&buf, last, anchors...)
}

// errStopEntries ends AuditLines early when AuditEntries' consumer stops.
var errStopEntries = errors.New("stop")

// AuditEntries yields the entries of the audit table, oldest first, from one snapshot of it. A
// row that is not an entry is yielded as an error naming it.
func (s *Store) AuditEntries(ctx context.Context) iter.Seq2[auditlog.Entry, error] {
	return func(yield func(auditlog.Entry, error) bool) {
		err := s.AuditLines(ctx, func(l AuditLine) error {
			var e auditlog.Entry
			if err := json.Unmarshal(l.Line, &e); err != nil {
				return fmt.Errorf("team audit log: entry %d is not an entry (%v): run 'waasctl log verify'", l.Seq, err)
			}
			if !yield(e, nil) {
				return errStopEntries
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopEntries) {
			yield(auditlog.Entry{}, err)
		}
	}
}
