package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// Censuses are saved as JSON files in a folder of the state dir, one per
// run, named so that they sort by time: quota-PROFILE-20261125T150405Z.json.

// SaveCounts writes c into dir (created 0700), 0600, atomically, and
// returns its path.
func SaveCounts(dir, profile string, c *Counts) (string, error) {
	if err := fsutil.MkdirPrivate(dir); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("quota-%s-%s.json", safeName(profile), c.Time.UTC().Format("20060102T150405.000Z")))
	return path, fsutil.WriteFile(path, append(data, '\n'), 0o600)
}

// LoadCounts reads a census saved by SaveCounts.
func LoadCounts(ctx context.Context, path string) (*Counts, error) {
	data, err := fsutil.ReadFile(ctx, path, "quota census", MaxCensusSize)
	if err != nil {
		return nil, err
	}
	return parseCounts(path, data)
}

// MaxCensusSize caps a quota census read back: a census of ten thousand
// pools is about a megabyte.
const MaxCensusSize = 64 << 20

func parseCounts(path string, data []byte) (*Counts, error) {
	var c Counts
	if err := json.Unmarshal(data, &c); err != nil || c.Totals == nil {
		return nil, fmt.Errorf("%s is not a quota snapshot saved by waasctl", path)
	}
	return &c, nil
}

// LatestCounts finds the newest census of profile in dir taken against the
// same endpoint and organization, or returns nil if there is none.
func LatestCounts(dir, profile, endpoint, org string) (*Counts, string, error) {
	// A census planted by whoever can write the folder would hide growth.
	if err := fsutil.CheckPrivateDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	matches, err := filepath.Glob(filepath.Join(dir, "quota-"+safeName(profile)+"-*.json"))
	if err != nil {
		return nil, "", err
	}
	slices.Sort(matches)
	for i := len(matches) - 1; i >= 0; i-- {
		data, err := fsutil.ReadFileNoFollow(matches[i])
		var c *Counts
		if err == nil {
			c, err = parseCounts(matches[i], data)
		}
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, "", err
		}
		// The glob for "prod" also matches "prod-eu": the recorded profile decides.
		if c.Profile == profile && c.Endpoint == endpoint && c.Org == org {
			return c, matches[i], nil
		}
	}
	return nil, "", nil
}

// safeName keeps a profile name usable in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
