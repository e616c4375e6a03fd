package build

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	stamped := &debug.BuildInfo{
		Main: debug.Module{Version: "v0.3.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
		},
	}
	tests := []struct {
		name string
		in   Info
		bi   *debug.BuildInfo
		want Info
	}{
		{"ldflags win", Info{"v1.0.0", "deadbeef", "2026-05-01T00:00:00Z"}, stamped,
			Info{"v1.0.0", "deadbeef", "2026-05-01T00:00:00Z"}},
		{"build info fills gaps", Info{}, stamped, Info{"v0.3.0", "abc123", "2026-01-02T03:04:05Z"}},
		{"devel is not a version", Info{}, &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			Info{"dev", "unknown", "unknown"}},
		{"no build info", Info{}, nil, Info{"dev", "unknown", "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolve(tt.in, tt.bi); got != tt.want {
				t.Errorf("resolve() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
