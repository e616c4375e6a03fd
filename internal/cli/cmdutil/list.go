package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// ListRun is what a list command hands to StreamList.
type ListRun[T any] struct {
	IO      *iostreams.IOStreams
	Format  OutputFormat
	Columns []Column[T]
	Noun    string // plural, for progress and messages: "wallets"
}

// StreamList prints every item of seq as it arrives, with a progress line on
// a terminal while the output is buffered or goes elsewhere. It ends with
// the error a user needs: an interrupted or failed listing says how far it
// got and that the output is incomplete, with exit 130 for an interrupt
// and exit 4 for a rejected key.
func StreamList[T any](ctx context.Context, run ListRun[T], seq iter.Seq2[T, error]) error {
	format := run.Format.Resolve(run.IO)
	p := NewListPrinter(run.IO, format, run.Columns)
	var progress *Progress
	if format == OutputTable || !run.IO.IsStdoutTTY() {
		progress = NewProgress(run.IO, run.Noun)
	}
	var listErr error
	for item, err := range seq {
		if err != nil {
			listErr = err
			break
		}
		if err := p.Add(item); err != nil {
			progress.Finish()
			return err // stdout is gone (a closed pipe): nothing more to say there
		}
		progress.Add(1)
	}
	progress.Finish()
	if listErr != nil {
		if err := p.Abort(); err != nil {
			return err
		}
	} else if err := p.Close(); err != nil {
		return err
	}
	switch {
	case listErr == nil:
		if p.Count() == 0 && run.IO.IsStderrTTY() {
			fmt.Fprintf(run.IO.ErrOut, "no %s found\n", run.Noun)
		}
		return nil
	case errors.Is(listErr, context.Canceled) || ctx.Err() != nil:
		return ExitErrorf(ExitInterrupted, "interrupted after %d %s; the list above is incomplete", p.Count(), run.Noun)
	default:
		err := fmt.Errorf("%w (after %d %s; the list above is incomplete)", listErr, p.Count(), run.Noun)
		if p.Count() == 0 {
			err = listErr
		}
		return APIError(err)
	}
}
