package inventory

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
)

func TestSnapshotRoundTripMatchesSandboxStats(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 11, Shape: sandbox.EstateShape{Pools: 3, WalletsPerPool: 2, AddressesPerWallet: 2, OperationsPerGroup: 1}})
	c := sb.Client(t, waas.Options{})
	var buf bytes.Buffer
	sum, err := TakeSnapshot(testctx.New(t), c, &buf, SnapshotMeta{Time: time.Now(), Profile: "default", Endpoint: c.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	st := sb.Stats(sb.DefaultOrg())
	want := map[string]int{KindPool: st.Pools, KindWallet: st.MPCWallets, KindDeviceGroup: st.DeviceGroups, KindAddress: st.Addresses, KindOperation: st.PendingOperations}
	for k, n := range want {
		if sum.Counts[k] != n {
			t.Errorf("%s: %d in the snapshot, the sandbox has %d", k, sum.Counts[k], n)
		}
	}
	got, err := VerifySnapshot(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != sum.Count || got.SHA256 != sum.SHA256 || got.Profile != "default" {
		t.Errorf("verified %+v, wrote %+v", got, sum)
	}
}

func TestSnapshotTamperDetection(t *testing.T) {
	var buf bytes.Buffer
	sw, _ := NewSnapshotWriter(&buf, SnapshotMeta{Time: time.Unix(0, 0), KeyName: testKeyName, KeyFingerprint: testKeyFP})
	for _, n := range []string{"pools/a", "pools/b", "pools/c"} {
		if err := sw.Add(Record{Kind: KindPool, Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	lines := strings.SplitAfter(good, "\n")
	for name, tc := range map[string]struct{ text, line string }{
		"flipped byte":    {strings.Replace(good, "pools/b", "pools/x", 1), "line 5"},
		"removed line":    {lines[0] + lines[1] + lines[3] + lines[4], "line 4"},
		"missing trailer": {lines[0] + lines[1] + lines[2] + lines[3], "line 5"},
		"truncated":       {good[:len(good)-3], "line 5"},
		"no header":       {lines[1] + lines[2], "line 1"},
	} {
		_, err := VerifySnapshot(strings.NewReader(tc.text))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.line) {
			t.Errorf("%s: err = %v, want a corrupt snapshot at %s", name, err, tc.line)
		}
	}
	if _, err := VerifySnapshot(strings.NewReader(good)); err != nil {
		t.Errorf("untouched: %v", err)
	}
}

func TestSnapshotDiffAfterCreatingAPoolAndAWallet(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 12, Shape: sandbox.EstateShape{Pools: 1, WalletsPerPool: 1}})
	c := sb.Client(t, waas.Options{})
	ctx := testctx.New(t)
	var a bytes.Buffer
	if _, err := TakeSnapshot(ctx, c, &a, SnapshotMeta{Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePool(ctx, "New", "new"); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := TakeSnapshot(ctx, c, &b, SnapshotMeta{Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// The client cannot create a wallet without the device side of MPC, so
	// the wallet arrives in a third snapshot written by hand from b.
	var c3 bytes.Buffer
	sw, _ := NewSnapshotWriter(&c3, SnapshotMeta{Time: time.Now(), KeyName: testKeyName, KeyFingerprint: testKeyFP})
	if _, err := readSnapshot(bytes.NewReader(b.Bytes()), sw.Add); err != nil {
		t.Fatal(err)
	}
	sw.Add(Record{Kind: KindWallet, Name: "pools/new/mpcWallets/w1", Pool: "pools/new"})
	if _, err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := DiffSnapshots(bytes.NewReader(a.Bytes()), bytes.NewReader(c3.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !d.AnyAdded() {
		t.Fatal("nothing added")
	}
	for _, k := range d.Kinds {
		want := map[string]string{KindPool: "pools/new", KindWallet: "pools/new/mpcWallets/w1"}[k.Kind]
		if got := strings.Join(k.Added, ","); got != want || len(k.Removed) != 0 {
			t.Errorf("%s: added %q removed %q, want added %q", k.Kind, got, k.Removed, want)
		}
	}
	// Reversed, the same resources are removed and nothing is added.
	d, err = DiffSnapshots(bytes.NewReader(c3.Bytes()), bytes.NewReader(a.Bytes()))
	if err != nil || d.AnyAdded() || len(d.Kinds[0].Removed) != 1 {
		t.Errorf("reverse diff: %+v, %v", d.Kinds, err)
	}
}
