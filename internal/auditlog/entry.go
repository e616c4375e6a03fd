// Package auditlog is waasctl's tamper-evident record of what it did: an append-only JSON Lines
// file in which every entry carries the SHA-256 of the line before it, plus a head checkpoint
// beside it naming the last entry. Verify walks the chain and compares its end with the
// checkpoint, so that an edited, deleted, reordered or cut-off line is found.
//
// Entries hold names and fingerprints, never secrets (docs/architecture.md, rotation invariant 6); Append
// refuses anything that looks like a private key. The package neither prints nor imports cobra.
package auditlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Entry is one record. JSON field names are part of the on-disk format: never rename one.
type Entry struct {
	Seq  uint64    `json:"seq"`  // 1 for the first entry, then +1 each
	Time time.Time `json:"time"` // when it was appended, UTC
	Who  string    `json:"who"`  // OS user
	Host string    `json:"host"` // host name
	// Identity is the age recipient (age1...) of the team-mode host that appended the entry
	// (docs/team.md); empty in a file log. In the line, so that the chain covers it.
	Identity     string   `json:"identity,omitempty"`
	PID          int      `json:"pid"`                    // process that appended it
	Command      string   `json:"command"`                // e.g. "keys rotate"
	Profile      string   `json:"profile,omitempty"`      // waasctl profile acted on
	Action       string   `json:"action"`                 // e.g. "rotate.create", "revoke"
	KeyNames     []string `json:"keyNames,omitempty"`     // API key names, never keys
	Fingerprints []string `json:"fingerprints,omitempty"` // credentials.Fingerprint of each key
	Outcome      string   `json:"outcome"`                // "ok", "failed", "aborted", ...
	Detail       string   `json:"detail,omitempty"`       // free text for a person; no secrets
	Prev         string   `json:"prev"`                   // HashLine of the previous line, or GenesisHash
}

// Outcomes callers are expected to use; Outcome is free text, these keep it greppable.
const (
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	OutcomeAborted = "aborted"
	// OutcomeInterrupted: stopped by Ctrl-C or SIGTERM, not by its own failure.
	OutcomeInterrupted = "interrupted"
)

// genesis is what the first entry's Prev hashes: a fixed string rather than "" so that a Prev
// of the empty string's hash (a common placeholder) is never mistaken for a chain start.
const genesis = "waasctl audit log v1"

// GenesisHash is the Prev of the first entry.
var GenesisHash = hashBytes([]byte(genesis))

// HashLine returns the hash that the next entry records as its Prev: hex SHA-256 of the line's
// exact bytes, without its newline. Hashing bytes rather than a re-encoding means any change to
// the file, even one that decodes to the same Entry, breaks the chain.
func HashLine(line []byte) string { return hashBytes(line) }

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// marshalLine encodes e as one line, without the newline. HTML escaping is off so that a
// person reading the file with grep sees "<" and "&" as themselves.
func marshalLine(e Entry) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// parseLine decodes one line and checks what every entry must have. It does not check the
// chain; that needs the neighbours.
func parseLine(line []byte) (Entry, error) {
	var e Entry
	if len(line) == 0 {
		return e, errors.New("empty")
	}
	if err := json.Unmarshal(line, &e); err != nil {
		return e, fmt.Errorf("not JSON (%v)", err)
	}
	if e.Seq == 0 {
		return e, errors.New("no seq")
	}
	if !isHash(e.Prev) {
		return e, errors.New("prev is not a hex SHA-256")
	}
	return e, nil
}

func isHash(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
