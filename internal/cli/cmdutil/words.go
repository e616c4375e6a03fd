package cmdutil

import "fmt"

// Count is n and the noun, singular for one: "1 unknown wallet", "2 unknown wallets".
func Count(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return fmt.Sprintf("%d %s", n, plural)
}
