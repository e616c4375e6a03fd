package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"plain":            {"pools/abc Déjà vu 日本 🚀", "pools/abc Déjà vu 日本 🚀"},
		"newline forges":   {"denied\nerror: all keys revoked", "denied error: all keys revoked"},
		"crlf is one":      {"a\r\nb", "a b"},
		"carriage return":  {"ok\rFAIL", "ok FAIL"},
		"clear screen":     {"x\x1b[2Jy", "x [2Jy"},
		"osc title":        {"\x1b]0;pwned\x07", " ]0;pwned "},
		"c1 csi":           {"a\u009b2Jb", "a 2Jb"},
		"tab and del":      {"a\tb\x7fc", "a b c"},
		"nul":              {"a\x00b", "a b"},
		"rlo":              {"abc\u202etxt.exe", "abc\ufffdtxt.exe"},
		"isolates":         {"\u2066a\u2067b\u2068c\u2069", "\ufffda\ufffdb\ufffdc\ufffd"},
		"marks":            {"\u200e\u200f\u061c", "\ufffd\ufffd\ufffd"},
		"line separator":   {"a\u2028b\u2029c", "a b c"},
		"invalid utf8":     {"a\xffb", "a\ufffdb"},
		"zwj emoji intact": {"👩\u200d💻", "👩\u200d💻"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := Line(c.in)
			if got != c.want {
				t.Fatalf("Line(%q) = %q, want %q", c.in, got, c.want)
			}
			if !Safe(got) {
				t.Fatalf("Line(%q) = %q is not Safe", c.in, got)
			}
			if Safe(c.in) != (c.in == c.want) {
				t.Fatalf("Safe(%q) = %v", c.in, Safe(c.in))
			}
		})
	}
}

func TestMessageCaps(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	got := Message(long)
	if len(got) > MaxMessage || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Fatalf("Message: %d bytes, valid %v: %q", len(got), utf8.ValidString(got), got)
	}
	if short := "permission denied"; Message(short) != short {
		t.Fatalf("Message(%q) = %q", short, Message(short))
	}
	if got := Truncate("abcdef", 6); got != "abcdef" {
		t.Fatalf("Truncate at length: %q", got)
	}
	if got := Truncate("abcdefgh", 6); got != "abc…" {
		t.Fatalf("Truncate: %q", got)
	}
}

func FuzzLine(f *testing.F) {
	f.Add("x\x1b[2J\n\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		got := Line(s)
		for _, r := range got {
			if Unsafe(r) {
				t.Fatalf("Line(%q) = %q keeps %U", s, got, r)
			}
		}
		if m := Message(s); len(m) > MaxMessage || !utf8.ValidString(m) {
			t.Fatalf("Message(%q) = %q", s, m)
		}
	})
}

func TestValueQuotesOnlyShortPrintableValues(t *testing.T) {
	for in, want := range map[string]string{
		"soon":     `"soon"`,
		"213504d":  `"213504d"`,
		"prod\x1b": "(a value of 5 characters, not shown)",
		"MHcCAQEEIMkA9g5QJ/gVANYvp/P4TlROgW+WsuyMb+NJQsAVN1JvoAoGCCqGSM49": "(a value of 64 characters, not shown)",
		"-----BEGIN EC PRIVATE KEY-----\nMHcC":                             "(a value of 35 characters, not shown)",
	} {
		if got := Value(in); got != want {
			t.Errorf("Value(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMaskPassword(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:hunter2@db/x":            "postgres://u:xxxxx@db/x",
		"postgres://u:hun/ter2@db/x":           "postgres://u:xxxxx@db/x",
		"ftp://me:hunter2@api.example.com":     "ftp://me:xxxxx@api.example.com",
		"//me:hunter2@api.example.com":         "//me:xxxxx@api.example.com",
		"me:hunter2@api.example.com":           "me:xxxxx@api.example.com",
		"https://api.example.com:8443/v1":      "https://api.example.com:8443/v1",
		"https://me@api.example.com":           "https://me@api.example.com",
		"host=db user=u dbname=x sslmode=none": "host=db user=u dbname=x sslmode=none",
	} {
		if got := MaskPassword(in); got != want {
			t.Errorf("MaskPassword(%q) = %q, want %q", in, got, want)
		}
	}
}
