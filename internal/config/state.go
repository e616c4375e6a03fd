package config

import (
	"fmt"
	"strings"
)

// State says where keys and rotation state live: "local" (the default: the keyring and the state
// folder of this host) or "postgres" (the team store, shared by every host with the DSN).
type State struct {
	Backend string `yaml:"backend,omitempty"`
	// DSN is the PostgreSQL URL or connection string; its password is never printed.
	// WAASCTL_STATE_DSN (a CI secret) overrides it.
	DSN string `yaml:"dsn,omitempty"`
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
