package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// State says where keys and rotation state live: "local" (the default: the keyring and the state
// folder of this host) or "postgres" (the team store, shared by every host with the DSN).
type State struct {
	Backend string `yaml:"backend,omitempty"`
	// DSN is the PostgreSQL URL or connection string; its password is never printed.
	// WAASCTL_STATE_DSN (a CI secret) overrides it.
	DSN string `yaml:"dsn,omitempty"`
	// Recipients pins the team's members (name to age1... public key): keys are encrypted only
	// to them and only items they sealed are read. It lives here, in the reviewed config, and
	// not only in the database, so that a database writer cannot add a member (docs/team.md).
	Recipients map[string]string `yaml:"recipients,omitempty"`
}

// StatePins returns the pinned recipients of profile's team store ("" for the top level): the
// profile's own state block when it has one, else the top level's, as StateBackend chooses
// (WAASCTL_STATE_DSN changes the database, not whom it pins). where names the block for
// messages ("state.recipients in /path/config.yaml"). A nil map: nothing is pinned.
func (c *Config) StatePins(profile string) (pins map[string]string, where string) {
	st, at := c.State, "state"
	if p, ok := c.Profiles[profile]; ok && profile != "" && p.State != nil {
		st, at = p.State, "profiles."+profile+".state"
	}
	where = at + ".recipients in " + c.Path
	if st == nil {
		return nil, where
	}
	return st.Recipients, where
}

// StateDSNEnv names the team store's DSN and selects the postgres backend for every profile.
const StateDSNEnv = "WAASCTL_STATE_DSN"

// StateBackend returns the team store's DSN for profile ("" for the top level), or "" when
// keys and state stay on this host. WAASCTL_STATE_DSN wins, then the profile's state, then the
// top level's. A state block that names an unknown backend or lacks its DSN is an error.
func (c *Config) StateBackend(profile string, getenv func(string) string) (dsn string, err error) {
	if v := strings.TrimSpace(getenv(StateDSNEnv)); v != "" {
		return v, nil
	}
	st, where := c.State, "state"
	if p, ok := c.Profiles[profile]; ok && profile != "" && p.State != nil {
		st, where = p.State, "profiles."+profile+".state"
	}
	if st == nil {
		return "", nil
	}
	switch st.Backend {
	case "", "local":
		if st.DSN != "" && st.Backend == "local" {
			return "", fmt.Errorf("%s: %s.dsn is set but %s.backend is local: set backend: postgres, or remove the dsn", c.Path, where, where)
		}
		if st.Backend == "" && st.DSN != "" {
			return "", fmt.Errorf("%s: %s.backend is missing: set backend: postgres", c.Path, where)
		}
		return "", nil
	case "postgres":
		if strings.TrimSpace(st.DSN) == "" {
			return "", fmt.Errorf("%s: %s.backend is postgres but %s.dsn is empty: set it, or export %s", c.Path, where, where, StateDSNEnv)
		}
		return st.DSN, nil
	}
	return "", fmt.Errorf("%s: %s.backend must be local or postgres", c.Path, where)
}

// PinStateRecipients records the team's pinned recipients in the config file at path, in the
// top-level state block: each of set is added (or its key replaced), each of drop removed, and
// everything else, comments included, kept. The file is edited under its lock (EditFile).
func PinStateRecipients(path string, set map[string]string, drop []string) error {
	return EditFile(path, func(doc *yaml.Node) error {
		for _, name := range drop {
			if _, err := Unset(doc, KeyPath{{Key: "state"}, {Key: "recipients"}, {Key: name}}); err != nil {
				return err
			}
		}
		for _, name := range slices.Sorted(maps.Keys(set)) {
			v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: set[name]}
			if err := Set(doc, KeyPath{{Key: "state"}, {Key: "recipients"}, {Key: name}}, v); err != nil {
				return err
			}
		}
		return nil
	})
}
