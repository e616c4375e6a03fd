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

func TestIndexFindsAndMarks(t *testing.T) {
	var b Builder
	for i := range 300 {
		b.Add(KeyOf("wallet", fmt.Sprint(i%100))) // each name three times
	}
	ix := b.Build()
	if ix.Len() != 100 {
		t.Fatalf("Len %d, want 100 distinct", ix.Len())
	}
	i, ok := ix.Find(KeyOf("wallet", "42"))
	if !ok || ix.Marked(i) {
		t.Fatalf("Find(42) = %d, %v; marked %v", i, ok, ok && ix.Marked(i))
	}
	ix.Mark(i)
	if !ix.Marked(i) {
		t.Fatal("Mark did not stick")
	}
	if _, ok := ix.Find(KeyOf("wallet", "100")); ok {
		t.Fatal("found a name never added")
	}
	if KeyOf("a", "bc") == KeyOf("ab", "c") {
		t.Fatal("parts are not kept apart")
	}
	marked := 0
	for j := range ix.Len() {
		if ix.Marked(j) {
			marked++
		}
	}
	ix.Mark(i) // again: still one
	if marked != 1 || ix.Unmarked() != 99 {
		t.Fatalf("%d marked, %d unmarked; want 1 and 99", marked, ix.Unmarked())
	}
}
