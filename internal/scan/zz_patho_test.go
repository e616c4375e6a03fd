package scan

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestZZPatho(t *testing.T) {
	rb := make([]byte, 64)
	rand.Read(rb)
	v := base64.RawStdEncoding.EncodeToString(rb)
	for _, n := range []int{64 << 10, 256 << 10} {
		inputs := map[string]string{
			"der":     strings.Repeat("MHcCAQEE", n/8),
			"dash64":  strings.Repeat("LS0t", n/4),
			"begin":   strings.Repeat("-----BEGIN EC PRIVATE KEY-----\n", n/31),
			"colon":   strings.Repeat("secret: "+v+"\n", n/96),
			"eq":      strings.Repeat("X="+v+"\n", n/90),
			"noend":   strings.Repeat("-----BEGIN EC PRIVATE KEY-----"+strings.Repeat("A", 16000)+"\n", n/16032+1),
			"equals":  strings.Repeat("=", n),
			"dashes":  strings.Repeat("-", n),
			"apikeys": strings.Repeat("organizations/apiKeys/", n/22),
			"utf16":   strings.Repeat("=\x00", n/2),
			"pad":     strings.Repeat("A==", n/3),
			"b64pad":  strings.Repeat(base64.StdEncoding.EncodeToString(rb)+"\n", n/89),
			"secretK": strings.Repeat("KeySecret", n/9),
		}
		for name, in := range inputs {
			st := time.Now()
			Detect([]byte(in), false)
			t.Logf("%-8s %7d KiB %v", name, n>>10, time.Since(st))
		}
	}
}
