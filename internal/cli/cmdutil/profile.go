package cmdutil

import (
	"os"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// ProfileEnv names the variable that chooses the profile when --profile is not given.
const ProfileEnv = "WAASCTL_PROFILE"

// DefaultProfile is the profile a command acts on when nothing names one.
const DefaultProfile = "default"

// ResolveProfile returns the profile cmd acts on, by the one rule every command follows: the
// positional PROFILE (args: the command's profile argument, none when the command has none or
// it was not given), else
// --profile, else WAASCTL_PROFILE, else "default". A positional PROFILE that differs from an
// explicit --profile or WAASCTL_PROFILE is a usage error: acting on either one would ignore
// what the operator said about the other. f.Profile is set to the result, so that f.APIClient
// and everything else that reads it use the same profile.
func ResolveProfile(cmd *cobra.Command, f *Factory, args []string) (string, error) {
	if len(args) > 1 {
		return "", FlagErrorf("unexpected argument %s for %q", textsafe.Value(args[1]), cmd.CommandPath())
	}
	chosen, err := ChosenProfiles(cmd, args)
	if err != nil {
		return "", err
	}
	p := DefaultProfile
	if len(chosen) == 1 {
		p = chosen[0]
	}
	f.Profile = p
	return p, nil
}

// ChosenProfiles is ResolveProfile for the commands that cover every profile unless told
// otherwise (keys check, keys status, log show, auth list): the positional profiles, else the
// one an explicit --profile or WAASCTL_PROFILE names, else nil, meaning all of them. A
// positional profile that differs from an explicit --profile or WAASCTL_PROFILE is the same
// usage error as in ResolveProfile.
func ChosenProfiles(cmd *cobra.Command, positional []string) ([]string, error) {
	for _, p := range positional {
		if p == "" {
			return nil, FlagErrorf("PROFILE must not be empty")
		}
	}
	name, source := explicitProfile(cmd)
	if source != "" && name == "" {
		return nil, FlagErrorf("%s must not be empty", source)
	}
	for _, p := range positional {
		if source != "" && p != name {
			return nil, FlagErrorf("PROFILE %s and %s %s name different profiles: give the profile once", textsafe.Value(p), source, textsafe.Value(name))
		}
	}
	chosen := positional
	if len(chosen) == 0 && source != "" {
		chosen = []string{name}
	}
	// Checked before anything else happens: a key pasted as a profile name must not travel on
	// to a lock file's name, a network check or an audit entry.
	for _, p := range chosen {
		if err := credentials.CheckProfile(p); err != nil {
			return nil, FlagErrorf("%v", err)
		}
	}
	if len(chosen) == 0 {
		return nil, nil
	}
	return chosen, nil
}

// explicitProfile is the profile --profile, else WAASCTL_PROFILE, names, and which of the two
// named it; source is "" when neither did (the root's flag default then is "default").
func explicitProfile(cmd *cobra.Command) (name, source string) {
	if fl := cmd.Flags().Lookup("profile"); fl != nil && fl.Changed {
		return fl.Value.String(), "--profile"
	}
	// Set but empty is unset, as for the flag's default.
	if v := os.Getenv(ProfileEnv); v != "" {
		return v, ProfileEnv
	}
	return "", ""
}
