package cmdutil

import (
	"context"
	"errors"
	"fmt"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/team"
)

// ErrNoTeamStore: neither config.yaml nor the environment names a team store.
var ErrNoTeamStore = errors.New("no team store is configured: set 'state: {backend: postgres, dsn: ...}' in config.yaml, or export " + config.StateDSNEnv + " (see docs/team.md)")

// StateDSN is the team store's DSN for profile ("" for the top-level state), or "" when keys
// and state stay on this host.
func StateDSN(f *Factory, profile string, getenv func(string) string) (string, error) {
	if f.Config == nil {
		return (&config.Config{}).StateBackend(profile, getenv)
	}
	cfg, err := f.Config()
	if err != nil {
		return "", err
	}
	return cfg.StateBackend(profile, getenv)
}

// OpenTeamStore opens the team store of the top-level state (or WAASCTL_STATE_DSN).
func OpenTeamStore(ctx context.Context, f *Factory, getenv func(string) string) (*team.Store, error) {
	dsn, err := StateDSN(f, "", getenv)
	if err != nil {
		return nil, err
	}
	if dsn == "" {
		return nil, ErrNoTeamStore
	}
	pins, err := TeamPins(f, "")
	if err != nil {
		return nil, err
	}
	s, err := team.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	s.Pins = pins
	return s, nil
}

// LoadAgeIdentity finds this host's age identity: WAASCTL_AGE_IDENTITY, else the local keyring
// (opened only when the variable is unset, so a CI job needs no keyring).
func LoadAgeIdentity(ctx context.Context, f *Factory, getenv func(string) string) (*team.Identity, error) {
	if getenv(team.IdentityEnv) != "" || f.LocalKeyring == nil {
		return team.LoadIdentity(ctx, getenv, nil, "")
	}
	kr, err := f.LocalKeyring()
	if err != nil {
		return nil, fmt.Errorf("opening this host's keyring for its age identity: %w", err)
	}
	ss, ok := kr.(credentials.SecretStore)
	if !ok {
		return nil, team.ErrNoIdentity
	}
	return team.LoadIdentity(ctx, getenv, ss, kr.Backend())
}

// openProfileStore opens the team store of profile's state backend (schema checked), sharing
// the Factory's when it is the top-level one; nil when the profile's state stays on this host.
func openProfileStore(ctx context.Context, f *Factory, profile string, getenv func(string) string) (*team.Store, error) {
	dsn, err := StateDSN(f, profile, getenv)
	if err != nil || dsn == "" {
		return nil, err
	}
	pins, err := TeamPins(f, profile)
	if err != nil {
		return nil, err
	}
	var s *team.Store
	if top, _ := StateDSN(f, "", getenv); top == dsn && f.TeamStore != nil {
		s, err = f.TeamStore()
	} else {
		s, err = team.Open(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := s.CheckSchema(ctx); err != nil {
		return nil, err
	}
	s.Pins = pins
	return s, nil
}

// OpenRotationState is where profile's rotation journal, lock and audit log live: the team
// store when its state backend is postgres (audit rows naming this host and its age identity,
// if it has one), else the state folder and the audit log folder of this host, whose lock
// records holder and is taken over with force (docs/rotation.md).
func OpenRotationState(ctx context.Context, f *Factory, profile string, getenv func(string) string, holder rotation.Holder, force bool) (rotation.StateBackend, error) {
	st, err := TeamRotationState(ctx, f, profile, getenv)
	if err != nil {
		return nil, err
	}
	if st != nil {
		if err := refuseLocalRotation(profile); err != nil {
			return nil, err
		}
		return st, nil
	}
	dir, err := config.StateDir()
	if err != nil {
		return nil, err
	}
	auditDir, err := auditlog.DefaultDir()
	if err != nil {
		return nil, err
	}
	log, err := auditlog.Open(auditDir)
	if err != nil {
		return nil, err
	}
	return &rotation.LocalState{Dir: dir, Audit: log, Holder: holder, Force: force}, nil
}

// TeamRotationState is the team store as profile's rotation state (journal, lock, audit table
// naming this host and its age identity, if it has one), or nil when the profile's state
// stays on this host.
func TeamRotationState(ctx context.Context, f *Factory, profile string, getenv func(string) string) (*team.RotationState, error) {
	s, err := openProfileStore(ctx, f, profile, getenv)
	if err != nil || s == nil {
		return nil, err
	}
	recipient := ""
	if f.AgeIdentity != nil {
		id, err := f.AgeIdentity()
		if err != nil && !errors.Is(err, team.ErrNoIdentity) {
			return nil, err
		}
		if id != nil {
			recipient = id.Recipient()
		}
	}
	return s.RotationState(recipient), nil
}

// OpenKeyStore is the credential store for the profile f names: the team store's when its
// state backend is postgres (schema checked; reading with this host's identity, or with none,
// which Get then reports), else open() (the local keyring).
func OpenKeyStore(ctx context.Context, f *Factory, getenv func(string) string, openLocal func() (credentials.Store, error)) (credentials.Store, error) {
	s, err := openProfileStore(ctx, f, f.Profile, getenv)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return openLocal()
	}
	var id *team.Identity
	if f.AgeIdentity != nil {
		id, err = f.AgeIdentity()
		if err != nil && !errors.Is(err, team.ErrNoIdentity) {
			return nil, err
		}
	}
	return s.Keys(id), nil
}

// refuseLocalRotation refuses team mode for profile while this host's state folder holds a
// rotation of it that is not finished (started before the profile's state moved to the team
// store): the team store knows nothing of it, so a new rotation would overwrite its sinks and
// its old key would never be revoked, or its PENDING key lost.
func refuseLocalRotation(profile string) error {
	dir, err := config.StateDir()
	if err != nil {
		return nil // no state folder: no local rotation
	}
	j, err := rotation.LoadJournal(dir, profile)
	if err != nil {
		return fmt.Errorf("profile %s: this host's state folder has a rotation journal from before team mode that cannot be read (%w): finish or move it aside before rotating in team mode", profile, err)
	}
	if j == nil || j.Step.Finished() {
		return nil
	}
	return fmt.Errorf("profile %s: this host's state folder (%s) holds rotation %s, stopped at %s before the profile's state moved to the team store, which knows nothing of it: finish it in local mode first (unset %s and the profile's 'state:' in config.yaml, run 'waasctl keys rotate %s --resume' or '--abort'), then come back to team mode",
		profile, dir, j.ID, j.Step, config.StateDSNEnv, profile)
}
