// Package textsafe makes text that someone else chose safe to print on an
// operator's terminal: a WaaS error message, a pool's display name, a
// database driver's error. Such text must not move the cursor, clear the
// screen, start a new line that looks like waasctl's own output, or reorder
// what follows it with a bidirectional override.
package textsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxMessage is how many bytes of a server's message an error keeps.
const MaxMessage = 300

// Line returns s fit for one line of a terminal: every control character
// (C0 including tab, CR and LF, DEL, C1) becomes a space, which also defuses
// escape sequences since their ESC or CSI introducer is gone; line and
// paragraph separators become spaces; bidirectional controls (U+061C,
// U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) become U+FFFD, so that a
// reader sees something was there; invalid UTF-8 becomes U+FFFD.
// Everything else, other scripts and emoji included, is kept.
func Line(s string) string {
	if isSafe(s) {
		return s // the common case allocates nothing
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			size = 2 // one line break, one space
		}
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			b.WriteByte(' ')
		case Unsafe(r): // a bidirectional control
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Message is Line cut to at most MaxMessage bytes (on a character boundary,
// ending "…" when cut): what an error keeps of a server's message.
func Message(s string) string {
	return Truncate(Line(s), MaxMessage)
}

// Truncate cuts s to at most n bytes on a character boundary, ending it
// with "…" when it was cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := max(n-len(ellipsis), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// Safe says whether Line would return s unchanged.
func Safe(s string) bool { return isSafe(s) }

func isSafe(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || Unsafe(r) {
			return false
		}
		i += size
	}
	return true
}

// Unsafe reports the characters Line replaces: controls (C0, DEL, C1), the
// line and paragraph separators, and the Unicode bidirectional formatting
// characters (marks, embeddings, overrides and isolates of Unicode TR9, the
// "Trojan Source" characters). Encoders that can escape a character instead
// of replacing it (JSON, YAML) use it to choose which to escape.
func Unsafe(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r == '\u061c', r == '\u200e', r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// maxQuoted is the longest value Value quotes. A private key fragment that
// carries its secret is longer; the words and durations people mistype are
// shorter.
const maxQuoted = 32

// Value quotes a value the user gave (a flag, a config setting) for an error
// message, when it is short and printable; a longer one may be a secret
// pasted into the wrong place, and is described by its length instead.
func Value(s string) string {
	if len(s) <= maxQuoted && isSafe(s) {
		return strconv.Quote(s)
	}
	return "(a value of " + strconv.Itoa(utf8.RuneCountInString(s)) + " characters, not shown)"
}

// MaskPassword hides the password of a URL's user info (scheme://user:password@host) in s,
// for a message, even when s does not parse as a URL ("me:secret@host", a password with a
// '/' typed raw): everything between the user's ':' and the last '@' becomes xxxxx. It may
// hide more than the password (a port, when a query holds an '@'), never less.
func MaskPassword(s string) string {
	start := 0
	if i := strings.Index(s, "//"); i >= 0 {
		start = i + 2
	}
	at := strings.LastIndex(s, "@")
	if at <= start {
		return s
	}
	colon := strings.Index(s[start:at], ":")
	if colon < 0 {
		return s
	}
	return s[:start+colon] + ":xxxxx" + s[at:]
}
