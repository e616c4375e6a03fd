package log

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/team"
)

// TeamLogFunc opens the team store whose audit table holds profile's entries ("" for every
// profile: the top-level state), returning nil when that state is local, and a func that
// closes what it opened.
type TeamLogFunc func(ctx context.Context, profile string) (*team.Store, func(), error)

// openTeamLog is the TeamLogFunc of f. WAASCTL_STATE_DSN wins, as everywhere.
func openTeamLog(ctx context.Context, f *cmdutil.Factory, profile string) (*team.Store, func(), error) {
	return cmdutil.OpenStateStore(ctx, f, profile, os.Getenv)
}

// noteLocalLog says, when this host also keeps an audit log file, that the team store's log
// is the one shown and how to read the other: the two are never mixed.
func noteLocalLog(ios *iostreams.IOStreams, dir func() (string, error), s *team.Store, verb, command string) {
	if dir == nil {
		return
	}
	d, err := dir()
	if err != nil {
		return
	}
	fi, err := os.Stat(filepath.Join(d, auditlog.FileName))
	if err != nil || fi.Size() == 0 {
		return
	}
	fmt.Fprintf(ios.ErrOut, "note: %s the team store's audit log (%s); this host also keeps an audit log file, %s (from before team mode, or from profiles whose state is local): 'waasctl log %s --local' reads that one\n",
		verb, s, filepath.Join(d, auditlog.FileName), command)
}

// teamStore is the team store to read, nil with --local or when the log stays on this host;
// done is always safe to call.
func (open TeamLogFunc) teamStore(ctx context.Context, local bool, profile string) (store *team.Store, done func(), err error) {
	if open == nil || local {
		return nil, func() {}, nil
	}
	store, done, err = open(ctx, profile)
	if err != nil || store == nil {
		return nil, func() {}, err
	}
	return store, done, nil
}
