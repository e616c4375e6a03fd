package iostreams

import (
	"io"
	"testing"
)

func TestTestStreams(t *testing.T) {
	ios, stdin, stdout, stderr := Test()
	stdin.WriteString("in")
	if ios.IsStdinTTY() || ios.IsStdoutTTY() || ios.IsStderrTTY() {
		t.Fatal("Test streams must not claim to be terminals")
	}
	if ios.ColorEnabled() || ios.CanPrompt() {
		t.Fatal("Test streams must not enable colour or prompts")
	}
	if got, _ := io.ReadAll(ios.In); string(got) != "in" {
		t.Fatalf("In read %q, want %q", got, "in")
	}
	ios.Out.Write([]byte("out"))
	ios.ErrOut.Write([]byte("err"))
	if stdout.String() != "out" || stderr.String() != "err" {
		t.Fatalf("stdout=%q stderr=%q", stdout, stderr)
	}
}

func TestColorEnabled(t *testing.T) {
	tests := []struct {
		name    string
		tty     bool
		noColor bool
		want    bool
	}{
		{"terminal", true, false, true},
		{"pipe", false, false, false},
		{"terminal with NO_COLOR", true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			ios.SetStdoutTTY(tt.tty)
			ios.noColor = tt.noColor
			if got := ios.ColorEnabled(); got != tt.want {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSystemReadsNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	ios := System()
	ios.SetStdoutTTY(true)
	if ios.ColorEnabled() {
		t.Fatal("NO_COLOR=1 must disable colour")
	}
	t.Setenv("NO_COLOR", "")
	ios = System()
	ios.SetStdoutTTY(true)
	if !ios.ColorEnabled() {
		t.Fatal("an empty NO_COLOR must not disable colour")
	}
}

func TestCanPrompt(t *testing.T) {
	ios, _, _, _ := Test()
	ios.SetStdinTTY(true)
	if ios.CanPrompt() {
		t.Fatal("CanPrompt with stdout piped")
	}
	ios.SetStdoutTTY(true)
	if !ios.CanPrompt() {
		t.Fatal("CanPrompt false with both ends on a terminal")
	}
	ios.SetNeverPrompt(true)
	if ios.CanPrompt() {
		t.Fatal("CanPrompt despite SetNeverPrompt")
	}
}

func TestTerminalWidth(t *testing.T) {
	ios, _, _, _ := Test()
	if w := ios.TerminalWidth(); w != defaultWidth {
		t.Fatalf("TerminalWidth() = %d, want %d", w, defaultWidth)
	}
	ios.SetTerminalWidth(132)
	if w := ios.TerminalWidth(); w != 132 {
		t.Fatalf("TerminalWidth() = %d, want 132", w)
	}
}
