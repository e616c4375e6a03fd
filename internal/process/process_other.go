//go:build !unix

package process

import "os/exec"

// Elsewhere the child alone is ended (exec.CommandContext's default).
func ownGroup(*exec.Cmd)  {}
func killGroup(*exec.Cmd) {}
