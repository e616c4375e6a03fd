package auth

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// auditKeyring appends e to the audit log in the folder dir returns: what auth add and auth
// remove did to a profile's keys, with the outcome they had. guard refuses the keys at hand in
// any encoding. A log that cannot be written is a warning on w, not a failed command: the
// keyring change it records has happened (or not) already.
// In team mode (teamState gives a store) it goes to the team's audit table, naming this host and
// its age identity.
func auditKeyring(ctx context.Context, w io.Writer, dir func() (string, error), teamState TeamStateFunc, guard *credentials.Guard, e auditlog.Entry) {
	ctx = context.WithoutCancel(ctx)
	ts, err := teamState.open(ctx, e.Profile)
	if err == nil && ts != nil {
		_, err = ts.AppendAudit(ctx, e, guard)
		if err != nil {
			fmt.Fprintf(w, "warning: the audit log was not written: %v\n", err)
		}
		return
	}
	d, err := dir()
	if err == nil {
		var log *auditlog.Log
		if log, err = auditlog.Open(d); err == nil {
			log.GuardAgainst(guard)
			_, err = log.Append(e)
		}
	}
	if err != nil {
		fmt.Fprintf(w, "warning: the audit log was not written: %v\n", err)
	}
}

// outcomeOf is the audit outcome and detail of a command that ended with err.
func outcomeOf(err error, detail string) (string, string) {
	if err == nil {
		return auditlog.OutcomeOK, detail
	}
	msg := textsafe.Line(err.Error())
	if detail != "" {
		msg = detail + ": " + msg
	}
	return auditlog.OutcomeFailed, msg
}

// slotKeys are the names and fingerprints of the keys item holds.
func slotKeys(item *credentials.Item) (names, fingerprints []string) {
	if item == nil {
		return nil, nil
	}
	for _, k := range []*credentials.StoredKey{item.Current, item.Pending, item.Previous} {
		if k != nil {
			names, fingerprints = append(names, k.Name), append(fingerprints, k.Fingerprint)
		}
	}
	return names, fingerprints
}

// joinDetail joins the non-empty parts of a detail.
func joinDetail(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
