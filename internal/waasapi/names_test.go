package waasapi

import "testing"

func TestPoolOf(t *testing.T) {
	for name, want := range map[string]string{
		"pools/p1/mpcWallets/w":                   "pools/p1",
		"pools/p1/deviceGroups/g/mpcOperations/o": "pools/p1",
		"pools/p1": "pools/p1",
		"networks/ethereum-goerli/addresses/0xabc": "",
		"pools//mpcWallets/w":                      "",
		"":                                         "",
	} {
		if got := PoolOf(name); got != want {
			t.Errorf("PoolOf(%q) = %q, want %q", name, got, want)
		}
	}
}
