package scan

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestZZScale(t *testing.T) {
	rb := make([]byte, 64)
	for i := range rb {
		rb[i] = byte(i*37 + 11)
	}
	v := base64.RawStdEncoding.EncodeToString(rb)
	ins := map[string]string{
		"lt":        "<",
		"close":     "</secret>",
		"closeA":    "A</secret>",
		"secretnl":  "secret:\n",
		"wrap4":     "secret: |\n  " + v[:22] + "\n  " + v[22:44] + "\n  " + v[44:66] + "\n  " + v[66:] + "\n",
		"wrapchain": "secret: " + v[:21] + "\n" + v[:21] + "\n",
		"deepind":   "secret:\n" + strings.Repeat(" ", 63) + v[:30] + "\n",
		"elemsp":    "<secret>" + strings.Repeat(" ", 300) + "</secret>",
		"elemb64":   "<secret>" + strings.Repeat("A", 127) + "</secret>",
		"cdata":     "<secret><![CDATA[" + v + "]]></secret>",
		"colonpipe": ":|\n" + v[:30] + "\n",
		"eqbs":      "=\\\n" + v[:30] + "\n",
	}
	for name, unit := range ins {
		var ts []time.Duration
		for _, size := range []int{2 << 20, 4 << 20} {
			data := []byte(strings.Repeat(unit, size/len(unit)))
			t0 := time.Now()
			Detect(data, false)
			ts = append(ts, time.Since(t0))
		}
		t.Logf("%-10s 2MiB %8v 4MiB %8v ratio %.2f  (%.0f MB/s)", name, ts[0], ts[1], float64(ts[1])/float64(ts[0]), 4.0*1.048576/ts[1].Seconds())
	}
}
