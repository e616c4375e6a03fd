package scan

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"testing"
)

// secp256k1 keys are reported under --other-keys, with the fingerprint every other tool gives
// them (SHA-256 of the PKIX public key), and never as WaaS keys.
func TestSecp256k1UnderOtherKeys(t *testing.T) {
	// d = 3, and 3G: a public test vector of the curve.
	const (
		d  = "0000000000000000000000000000000000000000000000000000000000000003"
		x3 = "F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9"
		y3 = "388F7B0F632DE8140FE337E62A37F3566500A99934C2231B6CB9FD7584B8E672"
		x2 = "C6047F9441ED7D6D3045406E95C07CD85C778E4B8CEF3CA7ABAC09B95C709EE5" // 2G: a damaged key's
		y2 = "1AE168FEA63DC339A3C58419466CEAEEF7F632653266D0E1236431A950CFE52A"
	)
	unhex := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	sec1 := func(x, y string) string {
		der := unhex("30740201010420" + d + "a00706052b8104000a" + "a144034200" + "04" + x + y)
		return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	}
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: unhex("308184020100301006072a8648ce3d020106052b8104000a046d306b0201010420" + d + "a144034200" + "04" + x3 + y3)}))
	sum := sha256.Sum256(unhex("3056301006072a8648ce3d020106052b8104000a034200" + "04" + x3 + y3))
	wantFP := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
	for name, text := range map[string]string{"sec1": sec1(x3, y3), "pkcs8": pkcs8} {
		t.Run(name, func(t *testing.T) {
			if got := Detect([]byte(text), false); len(got.Keys) != 0 {
				t.Fatalf("reported without --other-keys: %v", got.Keys[0].Kind)
			}
			got := Detect([]byte(text), true)
			if len(got.Keys) != 1 || got.Keys[0].Kind != KindOtherPrivateKey || got.Keys[0].Fingerprint != wantFP {
				t.Fatalf("got %d keys (%v), want one %s %s", len(got.Keys), kindsAndFPs(got), KindOtherPrivateKey, wantFP)
			}
		})
	}
	if got := Detect([]byte(sec1(x2, y2)), true); len(got.Keys) != 0 {
		t.Fatalf("a key whose stored public key is not its scalar's was reported")
	}
}

func kindsAndFPs(d Detected) []string {
	var out []string
	for _, m := range d.Keys {
		out = append(out, m.Kind+" "+m.Fingerprint)
	}
	return out
}
