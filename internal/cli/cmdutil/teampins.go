package cmdutil

import (
	"maps"

	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/team"
)

// TeamPins are the recipients config.yaml pins for profile's team store ("" for the top
// level): state.recipients of the block StateBackend chose (docs/team.md).
func TeamPins(f *Factory, profile string) (*team.Pins, error) {
	cfg := &config.Config{Path: "config.yaml"}
	if f.Config != nil {
		c, err := f.Config()
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	m, where := cfg.StatePins(profile)
	return team.NewPins(m, where)
}

// TeamRepin returns what records a change of the team's recipients in config.yaml's top-level
// state.recipients (team init, team recipients add/remove): every host's writes need the same
// pins, so the edited file goes to the team's ops repository.
func TeamRepin(f *Factory) func(*team.Pins) error {
	return func(after *team.Pins) error {
		if f.Config == nil {
			return nil
		}
		cfg, err := f.Config()
		if err != nil {
			return err
		}
		old, _ := cfg.StatePins("")
		set := after.Map()
		var drop []string
		for name := range old {
			if _, ok := set[name]; !ok {
				drop = append(drop, name)
			}
		}
		for name, key := range old {
			if set[name] == key {
				delete(set, name)
			}
		}
		if len(set) == 0 && len(drop) == 0 {
			return nil
		}
		if err := config.PinStateRecipients(cfg.Path, set, drop); err != nil {
			return err
		}
		// The loaded config follows, so that a later read in this process sees the new pins.
		if cfg.State == nil {
			cfg.State = &config.State{}
		}
		cfg.State.Recipients = maps.Clone(after.Map())
		return nil
	}
}
