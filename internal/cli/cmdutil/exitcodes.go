package cmdutil

// Exit codes, as documented in docs/architecture.md, `waasctl help exit-codes` and docs/exit-codes.md.
// Scripts and CI jobs branch on these, so a value never changes meaning once released.
const (
	ExitOK          = 0   // success
	ExitFailure     = 1   // any error not listed below
	ExitUsage       = 2   // bad flags, arguments or command
	ExitFindings    = 3   // an audit, scan or key check found something, or a policy is violated
	ExitAuth        = 4   // WaaS rejected the API key
	ExitIncomplete  = 5   // stopped part way, can be resumed
	ExitLocked      = 6   // another command holds the profile's lock, or took the rotation over
	ExitInterrupted = 130 // SIGINT or SIGTERM (128 + SIGINT, as shells report it)
)

// ExitCodeDoc describes one exit code for the help topic and the generated docs.
type ExitCodeDoc struct {
	Code    int
	Name    string
	Meaning string
}

// ExitCodes is the documented table, in order. `waasctl help exit-codes` and docs/exit-codes.md
// are both rendered from it so that they cannot drift apart.
var ExitCodes = []ExitCodeDoc{
	{ExitOK, "ok", "Success. A list with no entries is still a success."},
	{ExitFailure, "error", "Any error not listed below: network, server, file or keyring failures."},
	{ExitUsage, "usage", "Bad flags or arguments, or an unknown command."},
	{ExitFindings, "findings", "An audit, scan or key check found something, or a policy is violated (for example a key older than the maximum age)."},
	{ExitAuth, "auth rejected", "WaaS rejected the API key: it is wrong, revoked or not allowed to do this."},
	{ExitIncomplete, "incomplete", "The operation stopped part way and can be resumed; for a rotation, run it again with --resume (or roll back with --abort)."},
	{ExitLocked, "locked", "Another command holds the profile's lock (a rotation, keys revoke, auth add or auth remove); the message names the holder, host and start time. Also a rotation that another host took over while this one ran (its lock's database session ended, or the journal moved on without it): it stopped without any further change."},
	{ExitInterrupted, "interrupted", "Interrupted by SIGINT (Ctrl-C), SIGTERM, or Ctrl-C at a prompt, with nothing left to resume (a rotation in progress exits 5 instead)."},
}
