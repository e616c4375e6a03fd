package cmdutil

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/waasctl/waasctl/internal/cli/prompter"
	"github.com/waasctl/waasctl/internal/waas"
)

// ExitError makes the process exit with Code. Err is printed as the error message; a nil Err or
// SilentError prints nothing, for commands that already reported (for example an audit that
// printed its findings and exits 3).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// NewExitError returns err with an exit code attached.
func NewExitError(code int, err error) *ExitError {
	return &ExitError{Code: code, Err: err}
}

// ExitErrorf returns a formatted error that exits with code.
func ExitErrorf(code int, format string, args ...any) *ExitError {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// SilentExit exits with code without printing anything more.
func SilentExit(code int) *ExitError {
	return &ExitError{Code: code, Err: SilentError}
}

// SilentError exits 1 without printing: the command has already said what went wrong.
var SilentError = errors.New("SilentError")

// FlagError is a usage error: bad flags or arguments. It exits 2 and points at --help.
type FlagError struct {
	err error
}

func (e *FlagError) Error() string { return e.err.Error() }

func (e *FlagError) Unwrap() error { return e.err }

// FlagErrorf returns a usage error. Commands use it for every check on their flags and arguments
// that cobra does not do itself (cobra's MarkFlagRequired errors are plain errors and exit 1).
func FlagErrorf(format string, args ...any) error {
	return &FlagError{err: fmt.Errorf(format, args...)}
}

// FlagErrorWrap turns err into a usage error.
func FlagErrorWrap(err error) error {
	return &FlagError{err: err}
}

// APIError gives an error from a WaaS call its documented exit code and a
// hint of what to check: a key the service rejects (401, 403) is exit 4; a
// service that cannot be reached says to check the endpoint.
func APIError(err error) error {
	if err == nil {
		return nil
	}
	switch waas.HTTPCode(err) {
	case http.StatusUnauthorized:
		return NewExitError(ExitAuth, fmt.Errorf("%w; the API key was rejected: check it is the right, unrevoked key ('waasctl auth status' says which key is in use)", err))
	case http.StatusForbidden:
		return NewExitError(ExitAuth, fmt.Errorf("%w; the API key is not allowed to do this", err))
	case 0:
		if waas.Unreachable(err) {
			return fmt.Errorf("%w; check --endpoint (or the profile's endpoint) and the network", err)
		}
	}
	return err
}

// IsUserCancellation says whether err is the user's Ctrl-C or Esc at a prompt. With a signal
// (SIGINT, SIGTERM), it is the one test of "the user stopped waasctl": such an error maps to
// exit 130, unless the command said how it stopped (a rotation in progress exits 5).
func IsUserCancellation(err error) bool {
	return errors.Is(err, prompter.ErrCancelled)
}
