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

// TestAnIDOfNoKeyDoesNotShiftTheNamesOfKeys: an id of no key above the first key (project_id:
// X, key A, id A, key B with no id) alternates name, key, name, key, and pairing in order named
// key A by X, where its nearest name, A, was right.
func TestAnIDOfNoKeyDoesNotShiftTheNamesOfKeys(t *testing.T) {
	a, b := newEd(t), newEd(t)
	idA, x := "0b6f5e9a-1c2d-4e3f-8a9b-0c1d2e3f4a5b", "7d8e9f0a-1b2c-4d3e-9f8a-7b6c5d4e3f2a"
	for name, text := range map[string]string{
		"project id above, second key with no id": "project_id: " + x + "\n# the keys of the staging and production wallets, rotated each quarter by the platform team\n" +
			"cdp:\n  - api_key_secret: " + a.b64 + "\n    api_key_id: " + idA + "\n  - api_key_secret: " + b.b64 + "\n",
		"wallet id below, second key with no id": "cdp:\n  - api_key_secret: " + a.b64 + "\n    api_key_id: " + idA + "\n  - api_key_secret: " + b.b64 + "\n" +
			"# the keys of the staging and production wallets, rotated each quarter by the platform team\nwallet_id: " + x + "\n",
	} {
		got := map[string]string{}
		for _, m := range Detect([]byte(text), false).Keys {
			got[m.Fingerprint] = m.KeyName
		}
		if got[a.fp] != idA {
			t.Errorf("%s: key A named %q (B %q); want %s", name, got[a.fp], got[b.fp], idA)
		}
	}
}
