package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/waasctl/waasctl/internal/fsutil"
)

const appName = "waasctl"

// ConfigFile returns the path of the config file: $WAASCTL_CONFIG, else
// $XDG_CONFIG_HOME/waasctl/config.yaml, else ~/.config/waasctl/config.yaml.
// The file need not exist.
func ConfigFile() (string, error) {
	if p := os.Getenv("WAASCTL_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := xdgDir("XDG_CONFIG_HOME", ".config")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, appName, "config.yaml"), nil
}

// StateDir returns the folder for journals, locks, snapshots and the audit log:
// $WAASCTL_STATE_DIR, else $XDG_STATE_HOME/waasctl, else ~/.local/state/waasctl.
// It does not create the folder; whoever writes there creates it with mode 0700
// (fsutil.MkdirPrivate, which checks each subfolder the same way).
//
// A folder that exists must pass fsutil.CheckPrivateDir: not a symlink, yours, not writable by
// group or others. Only the folder itself is checked, not its parents, so that
// WAASCTL_STATE_DIR=/tmp/x works where /tmp is a symlink (macOS).
func StateDir() (string, error) {
	dir := os.Getenv("WAASCTL_STATE_DIR")
	if dir == "" {
		base, err := xdgDir("XDG_STATE_HOME", filepath.Join(".local", "state"))
		if err != nil {
			return "", err
		}
		dir = filepath.Join(base, appName)
	}
	if err := fsutil.CheckPrivateDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("state folder: %w", err)
	}
	return dir, nil
}

// xdgDir returns $env when it holds an absolute path, else ~/fallback. The XDG base directory
// spec says a relative value is invalid and must be ignored; honouring it would make the location
// depend on the working directory. The spec's fallbacks are used on every OS (not
// ~/Library/Application Support on macOS) so that docs and scripts can name one place.
func xdgDir(env, fallback string) (string, error) {
	if p := os.Getenv(env); p != "" && filepath.IsAbs(p) {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("cannot locate the home folder; set " + env + " or HOME")
	}
	return filepath.Join(home, fallback), nil
}
