package incident

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/reconcile"
)

// maxListed bounds each list in the Markdown report; the JSON has all.
const maxListed = 50

// writeMarkdown renders an assessment for people: a verdict first, then
// the evidence, then what the report cannot know.
func writeMarkdown(out io.Writer, profile string, a *reconcile.Assessment) error {
	w := bufio.NewWriter(out)
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Incident assessment: profile %s\n\n", profile)
	p("- Taken: %s\n", a.Now.Time.UTC().Format(time.RFC3339))
	p("- Endpoint: %s, organization %s\n", a.Now.Endpoint, orNone(a.Now.Organization))
	p("- Snapshot: `%s` (%d resources, sha256 %s)\n", a.Snapshot, a.Now.Count, short(a.Now.SHA256))
	if k := a.Suspect; k != nil {
		p("- Suspected key: %s (%s): %s\n", orNone(k.Name), orNone(k.Fingerprint), k.Why)
	}
	if b := a.Since; b != nil {
		p("- Baseline: `%s` (%s, %s before this report)\n", b.Path, b.Time.UTC().Format(time.RFC3339), ago(a.Now.Time.Sub(b.Time)))
		if b.KeyFingerprint != "" {
			p("  - taken with key %s (%s)%s\n", b.KeyName, b.KeyFingerprint, map[bool]string{true: ", the suspected key", false: ""}[a.Suspect != nil && b.KeyFingerprint == a.Suspect.Fingerprint])
		} else {
			p("  - taken with a key that is unknown (a version 1 snapshot)\n")
		}
		p("  - why this one: %s\n", b.Reason)
		if b.PredatesLeak {
			p("  - known to predate the leak\n")
		} else {
			p("  - **may postdate the leak**: %s\n", b.Caveat)
		}
	} else {
		p("- Baseline: **none**\n")
	}
	p("- Ledger: %s\n\n", orNone(a.Ledger))

	p("## Verdict: %s\n\n", strings.ToUpper(a.Verdict))
	switch a.Verdict {
	case reconcile.VerdictFindings:
		p("%d findings below need a look.\n\n", a.Findings())
	case reconcile.VerdictInconclusive:
		switch {
		case a.Since != nil && a.Ledger == "" && len(a.EarlierKeys) > 0 && a.Since.PredatesLeak:
			p("Nothing was added since the baseline, but the profile used other keys before it (below): if one of them is the key that leaked (a rotation since the leak), what it made predates the baseline and this diff **cannot see it**. Assess that key with --key, give --leaked-since if you know when the leak began, or configure a ledger.\n\n")
		case a.Since == nil:
			p("Nothing unknown was found, but without a baseline snapshot this report **cannot tell old from new**: it does not show the estate is clean.\n\n")
		default:
			p("Nothing unknown was found since the baseline, but the baseline **may postdate the leak** (see above): this does not show the estate is clean. If you know when the key could first have leaked, run again with --leaked-since TIME.\n\n")
		}
	case reconcile.VerdictClean:
		p("Everything added since the baseline is accounted for%s.\n\n", map[bool]string{true: " by the ledger", false: ""}[a.Ledger != ""])
	}

	if len(a.EarlierKeys) > 0 {
		p("## Earlier keys of this profile\n\n")
		p("Keys the snapshots show in use before the baseline. This report is about the suspected key; if one of these may be the key that leaked, assess it: `waasctl incident assess %s --key FINGERPRINT`.\n\n", profile)
		p("| Key | Fingerprint | First seen | Last seen |\n|---|---|---|---|\n")
		for _, k := range a.EarlierKeys {
			p("| %s | `%s` | %s | %s |\n", cell(orNone(k.Name)), k.Fingerprint, k.FirstSeen.UTC().Format(time.RFC3339), k.LastSeen.UTC().Format(time.RFC3339))
		}
		p("\n")
	}

	p("## Unknown pending MPC operations\n\n")
	switch {
	case a.Ledger == "":
		p("Not checked: no ledger.\n\n")
	case len(a.UnknownOperations) == 0:
		p("None: the ledger knows every pending operation.\n\n")
	default:
		p("Operations nobody in the middle tier started: do not let devices sign them.\n\n")
		p("| Operation | Kind | Device group | Wallet | Pool |\n|---|---|---|---|---|\n")
		for i, u := range a.UnknownOperations {
			if i == maxListed {
				p("\n...and %d more (see -o json).\n", len(a.UnknownOperations)-maxListed)
				break
			}
			p("| `%s` | %s | `%s` | `%s` | `%s` |\n", cell(u.Operation), cell(u.Kind), cell(u.DeviceGroup), cell(u.Wallet), cell(u.Pool))
		}
		p("\n")
	}

	p("## Unknown wallets and device groups\n\n")
	switch {
	case a.Ledger == "":
		p("Not checked: no ledger.\n\n")
	case a.ResourcesUnchecked:
		p("Not checked: the ledger has no wallets or device groups query.\n\n")
	case len(a.UnknownResources) == 0:
		p("None: the ledger knows every wallet and device group.\n\n")
	default:
		p("| Kind | Name | Pool |\n|---|---|---|\n")
		for i, u := range a.UnknownResources {
			if i == maxListed {
				p("\n...and %d more (see -o json).\n", len(a.UnknownResources)-maxListed)
				break
			}
			p("| %s | `%s` | `%s` |\n", u.Kind, cell(u.Name), cell(u.Pool))
		}
		p("\n")
	}
	if len(a.MissingResources) > 0 {
		p("## In the ledger, not in WaaS\n\n| Kind | Name | Owner | Ledger row | Confirmed |\n|---|---|---|---|---|\n")
		for i, m := range a.MissingResources {
			if i == maxListed {
				p("\n...and %d more (see -o json).\n", len(a.MissingResources)-maxListed)
				break
			}
			p("| %s | `%s` | %s | %s | %v |\n", m.Kind, cell(m.Name), cell(m.Owner), cell(m.Where), m.Confirmed)
		}
		p("\n")
	}

	p("## Changes since the baseline\n\n")
	if a.Since == nil {
		p("No baseline: changes cannot be computed.\n\n")
	} else {
		p("| Kind | Added | Removed |\n|---|---:|---:|\n")
		for _, k := range a.Changes {
			p("| %s | %d | %d |\n", k.Kind, len(k.Added), len(k.Removed))
		}
		p("\n")
		for _, k := range a.Unexplained {
			why := " (no ledger)"
			if a.Ledger != "" {
				why = " (the ledger records no " + plural(k) + ")"
			}
			p("Added %s not accounted for%s:\n\n", plural(k), why)
			for i, n := range k.Added {
				if i == maxListed {
					p("- ...and %d more (see -o json)\n", len(k.Added)-maxListed)
					break
				}
				p("- `%s`\n", n)
			}
			p("\n")
		}
	}

	p("## Quota\n\n| Resource | Count | Added | Limit | Used | Taken by additions |\n|---|---:|---:|---:|---:|---:|\n")
	for _, q := range a.Quota {
		added, limit, used, took := "-", "-", "-", "-"
		if q.Added != nil {
			added = fmt.Sprintf("%+d", *q.Added)
		}
		if q.Limit > 0 {
			limit = fmt.Sprint(q.Limit)
			used = fmt.Sprintf("%.1f%%", *q.Percent)
			if q.AddedPercent != nil {
				took = fmt.Sprintf("%.1f%%", *q.AddedPercent)
			}
		}
		p("| %s | %d | %s | %s | %s | %s |\n", q.Resource, q.Count, added, limit, used, took)
	}
	p("\n## Limitations\n\n")
	for _, l := range a.Limitations {
		p("- %s\n", l)
	}
	return w.Flush()
}

func plural(k inventory.KindDiff) string {
	switch k.Kind {
	case inventory.KindDeviceGroup:
		return "device groups"
	case inventory.KindAddress:
		return "addresses"
	}
	return k.Kind + "s"
}

// ago is how long before the report the baseline was taken, as people say it (3d, 2d 5h, 7h,
// 12m, 40s); its exact time is printed beside it.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < 48*time.Hour || d%(24*time.Hour) < time.Hour:
		return cmdutil.Age(d)
	}
	return fmt.Sprintf("%s %dh", cmdutil.Age(d), int(d.Hours())%24)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// cell keeps a value inside its table cell: a "|" would end the cell, a
// newline the row (GitHub's tables accept "\|", even in code spans).
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}
