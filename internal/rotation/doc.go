// Package rotation rotates a profile's API key in stages that survive a crash at any point:
// preflight, create, verify, deliver, observe, promote, revoke, done (docs/architecture.md, "Rotation
// invariants"). This file documents the building blocks the state machine stands on:
//
//   - lock.go: one rotation per profile at a time (invariant 5);
//   - journal.go: the per-profile record of how far a rotation got, which --resume and --abort
//     read, and which never holds a secret (invariants 4 and 6);
//   - envfile.go: the envfile sink, which puts a key into the reference proxy's .env;
//   - state.go: StateBackend, where the engine keeps the journal, the lock and the audit log:
//     the state folder (LocalState) or, in team mode, the team store (internal/team), both
//     passing the contract in statetest.
//
// Locally everything lives under the state folder (config.StateDir): locks/<profile>.lock and
// journals/<profile>.json, with finished journals moved to journals/history/. Folders are 0700,
// files 0600. A journal is saved at the version last loaded or saved (locally a hash of the
// file), so a process whose rotation was taken over is fenced at its next save.
//
// # The lock
//
// The lock is an OS lock on an open file (flock on Unix, LockFileEx on Windows), held for the
// life of the process, with a JSON record of the holder (user, host, pid, command, start time)
// in the file so that a second waasctl can say who is rotating. An OS lock is released by the
// kernel when its process ends, however it ends, so a crashed or killed rotation never leaves
// a lock behind: the next run takes it without --force. The record it left (Release empties
// the file, a crash does not) is reported as Lock.Abandoned; what that rotation left half done
// is the journal's business (--resume), not the lock's.
//
// A lock that is held is therefore held by a running process, and "stale" can only mean one
// whose holder cannot be shown to be running:
//
//   - the record names another host: the state folder is shared (NFS, a mounted volume) and
//     a pid over there cannot be checked; if that host died, its lock may linger until the
//     file server notices;
//   - the record names a pid on this host that no longer exists: the lock is held by a process
//     the holder left behind, or by one in another pid namespace (a container);
//   - the record is missing or unreadable.
//
// Only such a lock is taken over, and only with force (--force): the lock file is moved aside
// and a new one is created and locked, so later contenders see the new holder, and Lock.TookOver
// names the one displaced for the audit log. The displaced process, should it be alive after
// all, finds out at its next Lock.Verify and must stop. A lock whose holder is a live process on
// this host is never taken over, force or not: that rotation is running, and two at once could
// break invariant 1. Stopping it (kill) frees the lock at once, which is the honest way to
// "force" it.
//
// The pid check cannot tell the holder from an unrelated process that reused its pid; since the
// lock is still held in that case, the answer (refuse, name the pid) errs on the safe side.
//
// On NFS, Linux emulates flock with POSIX locks, which belong to a process rather than to an
// open file: there, one process must not take the same profile's lock twice (the CLI never
// does), or it would get it twice.
package rotation
