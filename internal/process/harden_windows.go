package process

// Harden: Windows writes no core files by default (Windows Error Reporting
// dumps are configured system-wide).
func Harden() error { return nil }
