//go:build !linux

package credentials

// The Secret Service and kernel keyrings are Linux only; these are never
// reached elsewhere because their backends are not compiled in.

func secretServiceCollection() (string, error) { return "login", nil }

func keyctlCheck(string) error { return nil }

const keyctlPerm = 0
