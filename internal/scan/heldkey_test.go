package scan

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// A Match printed by mistake, with any verb, does not show the key it holds: fmt prints an
// unexported field's value by reflection, without calling its String or Format method.
func TestAPrintedMatchDoesNotShowTheKey(t *testing.T) {
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	seed := raw[:ed25519.SeedSize]
	k := newP256(t)
	got := Detect([]byte("CDP_API_KEY_SECRET="+e.b64+"\n"+k.sec1), false)
	if len(got.Keys) != 2 {
		t.Fatalf("found %d keys", len(got.Keys))
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
		out := fmt.Sprintf(verb, got.Keys)
		for _, secret := range []string{fmt.Sprint(seed[:8])[1:20], fmt.Sprintf("%x", seed[:8]), fmt.Sprintf("%d", seed[0]) + " " + fmt.Sprintf("%d", seed[1]) + " " + fmt.Sprintf("%d", seed[2])} {
			if strings.Contains(out, secret) {
				t.Fatalf("%s of a Match shows the seed (%q)", verb, secret)
			}
		}
	}
}
