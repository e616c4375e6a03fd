package cmdutil

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// ResourceName accepts a full resource name or a bare ID under collection:
// ResourceName("pools", "abc") and ResourceName("pools", "pools/abc") are
// both "pools/abc".
func ResourceName(collection, s string) string {
	s = strings.Trim(strings.TrimSpace(s), "/")
	if strings.HasPrefix(s, collection+"/") {
		return s
	}
	return collection + "/" + s
}

// WalletScope is the --pool P | --all choice of commands that work across
// wallets.
type WalletScope struct {
	Pool string
	All  bool
}

// AddFlags declares --pool and --all on cmd.
func (s *WalletScope) AddFlags(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&s.Pool, "pool", "", "Only "+what+" in this pool (pools/ID or ID)")
	cmd.Flags().BoolVar(&s.All, "all", false, "All "+what+" in every pool")
}

// Check requires exactly one of --pool and --all.
func (s *WalletScope) Check() error {
	switch {
	case s.Pool != "" && s.All:
		return FlagErrorf("--pool and --all cannot be used together")
	case s.Pool == "" && !s.All:
		return FlagErrorf("say which wallets: --pool POOL or --all")
	}
	return nil
}

// Exclusive is a usage error unless at most one of the named flags is set.
func Exclusive(flags map[string]bool) error {
	var set []string
	for name, isSet := range flags {
		if isSet {
			set = append(set, "--"+name)
		}
	}
	if len(set) > 1 {
		slices.Sort(set)
		return FlagErrorf("%s cannot be used together", strings.Join(set, " and "))
	}
	return nil
}

// Wallets yields the wallets in scope.
func (s *WalletScope) Wallets(ctx context.Context, c *waas.Client) iter.Seq2[waasapi.MPCWallet, error] {
	if s.All {
		return c.AllWallets(ctx)
	}
	return c.Wallets(ctx, ResourceName("pools", s.Pool))
}

// Resource name shapes, for checking names before any call is made: a
// typo is a usage error with the expected form, not a 404 from the API.
const (
	WalletName      = "pools/{pool}/mpcWallets/{wallet}"
	DeviceGroupName = "pools/{pool}/deviceGroups/{group}"
	AddressName     = "networks/{network}/addresses/{address}"
)

// CheckName returns a usage error unless name has the shape of pattern
// (literal segments must match, {placeholders} must be non-empty). An empty
// name is not checked: an unset flag.
func CheckName(what, name, pattern string) error {
	if name == "" {
		return nil
	}
	got, want := strings.Split(name, "/"), strings.Split(pattern, "/")
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		if strings.HasPrefix(want[i], "{") {
			ok = got[i] != ""
		} else {
			ok = got[i] == want[i]
		}
	}
	if !ok {
		return FlagErrorf("%s %q is not a name of the form %s", what, name, pattern)
	}
	return nil
}

// Age says how old something is, to the unit that matters: 42m, 17h, 90d.
func Age(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// ClockTime is t as a person reads it in loc: "2026-03-15 15:09:26 UTC", and elsewhere the
// offset beside the zone's abbreviation, "2026-03-15 10:09:26 CDT (UTC-05:00)": an
// abbreviation alone can name two zones (CST is US Central and China Standard), and an
// operator comparing it with a UTC log needs the difference.
func ClockTime(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	s := t.Format(time.DateTime + " MST")
	switch name, offset := t.Zone(); {
	case offset == 0 && name == "UTC":
		return s
	case name == "" || strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-"):
		return s // a zone without an abbreviation is named by its offset already
	}
	return s + " (UTC" + t.Format("-07:00") + ")"
}
