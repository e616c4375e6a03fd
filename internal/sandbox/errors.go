package sandbox

import (
	"fmt"

	"github.com/waasctl/waasctl/internal/waasapi"
)

// rpcError is an API error: a google.rpc.Status sent with the HTTP status
// grpc-gateway maps its code to.
type rpcError struct {
	code waasapi.Code
	msg  string
}

func (e *rpcError) Error() string { return e.msg }

func errorf(code waasapi.Code, format string, args ...any) *rpcError {
	return &rpcError{code: code, msg: fmt.Sprintf(format, args...)}
}

func invalidArg(format string, args ...any) *rpcError {
	return errorf(waasapi.InvalidArgument, format, args...)
}

func notFound(what, name string) *rpcError {
	return errorf(waasapi.NotFound, "%s %q not found", what, name)
}

func (e *rpcError) status() waasapi.Status {
	return waasapi.Status{Code: int32(e.code), Message: e.msg, Details: []any{}}
}
