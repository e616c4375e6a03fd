package nameset

import (
	"fmt"
	"testing"
)

func TestSetDropsRepeats(t *testing.T) {
	s := New()
	for i := range 1000 {
		name := fmt.Sprintf("pools/p/deviceGroups/%d", i%250)
		if got, want := s.Add(name), i < 250; got != want {
			t.Fatalf("Add(%q) at %d = %v, want %v", name, i, got, want)
		}
	}
	if s.Len() != 250 || !s.Has("pools/p/deviceGroups/7") || s.Has("pools/p/deviceGroups/250") {
		t.Fatalf("Len %d, Has(7) %v, Has(250) %v", s.Len(), s.Has("pools/p/deviceGroups/7"), s.Has("pools/p/deviceGroups/250"))
	}
}
