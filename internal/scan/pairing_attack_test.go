package scan

import (
	"strconv"
	"testing"
)

// TestKeysPairedInOrderKeepTheirOwnFormOfName: a WaaS block around a CDP block (P-256 key,
// CDP id, CDP secret, WaaS name) alternates key, name, key, name; pairing in order gave the
// P-256 key the CDP id and the CDP key the WaaS name, both wrong, where the nearest name of
// each key's own form (a legacy name for P-256, a bare id for Ed25519) was right.
func TestKeysPairedInOrderKeepTheirOwnFormOfName(t *testing.T) {
	p, e := newP256(t), newEd(t)
	idE := "0b6f5e9a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
	nameP := "organizations/7d8e9f0a-1b2c-4d3e-9f8a-7b6c5d4e3f2a/apiKeys/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	text := "WAAS_PRIVATE_KEY=" + strconv.Quote(p.sec1) + "\n" +
		"CDP_API_KEY_ID=" + idE + "\n" +
		"CDP_API_KEY_SECRET=" + e.b64 + "\n" +
		"WAAS_API_KEY_NAME=" + nameP + "\n"
	got := map[string]string{}
	for _, m := range Detect([]byte(text), false).Keys {
		got[m.Fingerprint] = m.KeyName
	}
	if got[p.fp] != nameP || got[e.fp] != idE {
		t.Fatalf("P-256 key named %q, CDP key named %q; want %s and %s", got[p.fp], got[e.fp], nameP, idE)
	}
}
