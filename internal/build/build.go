// Package build reports which waasctl this is. Release builds set the variables with
//
//	-ldflags "-X github.com/waasctl/waasctl/internal/build.Version=v1.2.3
//	          -X github.com/waasctl/waasctl/internal/build.Commit=<sha>
//	          -X github.com/waasctl/waasctl/internal/build.Date=<RFC 3339>"
//
// (see the Makefile and .goreleaser.yaml); `go install` and `go run` builds fall back to what the
// Go toolchain recorded in the binary.
package build

import "runtime/debug"

// Set by -ldflags -X. They must stay uninitialised string variables for -X to work.
var (
	Version string
	Commit  string
	Date    string
)

// Info is what `waasctl version` prints.
type Info struct {
	Version string
	Commit  string
	Date    string
}

// Get returns the build information, filling what -ldflags did not set from the module version
// and VCS stamp the toolchain embeds, then from "dev" and "unknown".
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(Info{Version: Version, Commit: Commit, Date: Date}, bi)
}

func resolve(in Info, bi *debug.BuildInfo) Info {
	if bi != nil {
		// "(devel)" is what a build inside the module's own checkout reports without a VCS stamp.
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && in.Commit == "":
				in.Commit = s.Value
			case s.Key == "vcs.time" && in.Date == "":
				in.Date = s.Value
			}
		}
	}
	if in.Version == "" {
		in.Version = "dev"
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	if in.Date == "" {
		in.Date = "unknown"
	}
	return in
}
