package rotation

import (
	"testing"
)

// An emergency rotation's journal says so from its first save, so that every --resume (in a
// new process) knows to take no snapshot; and the archive keeps it for incident assess.
func TestEmergencyIsJournaledAndArchived(t *testing.T) {
	dir := t.TempDir()
	j, err := NewJournal("prod", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	j.Emergency = true
	j.OldKey = KeyRef{Name: "3f9c2d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f", Fingerprint: "SHA256:old"}
	if err := j.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := LoadJournal(dir, "prod")
	if err != nil || back == nil || !back.Emergency {
		t.Fatalf("loaded %+v, %v: the emergency flag did not survive", back, err)
	}
	back.Step = StepDone
	if _, err := back.Archive(dir); err != nil {
		t.Fatal(err)
	}
	// Another profile whose name starts the same is not prod's history.
	other, _ := NewJournal("prod-eu", "sandbox")
	other.Step = StepDone
	if _, err := other.Archive(dir); err != nil {
		t.Fatal(err)
	}
	hist, err := History(dir, "prod")
	if err != nil || len(hist) != 1 || !hist[0].Emergency || hist[0].OldKey.Fingerprint != "SHA256:old" || hist[0].ID != j.ID {
		t.Fatalf("History = %+v, %v", hist, err)
	}
	if hist, err := History(t.TempDir(), "prod"); err != nil || len(hist) != 0 {
		t.Fatalf("no history: %+v, %v", hist, err)
	}
}
