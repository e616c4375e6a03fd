package scan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"gopkg.in/yaml.v3"
)

// Every output format reports the same findings with the same fields: JSON records, YAML
// items and SARIF results' properties carry the same keys and values; the table has a row per
// finding; suppressed findings (--verbose) and what made the scan incomplete are in each.
func TestOutputsAgree(t *testing.T) {
	dir := keyFolder(t)
	k2 := keyFolder(t)
	data, _ := os.ReadFile(filepath.Join(k2, "key.pem"))
	// A second key, allowed: suppressed, shown only with --verbose.
	os.WriteFile(filepath.Join(dir, "fixture.txt"), append([]byte("# waasctl:allow\n"), data...), 0o600)
	paths := []string{dir, filepath.Join(dir, "missing")}

	out, _, _ := runScan(t, &Options{Paths: paths, Verbose: true}, cmdutil.OutputJSON)
	var recs []map[string]any
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatal(err)
	}
	var findings []map[string]any
	errors := 0
	for _, r := range recs {
		switch r["type"] {
		case "finding":
			delete(r, "type")
			findings = append(findings, r)
		case "error":
			errors++
		}
	}
	if len(findings) != 2 || errors != 1 {
		t.Fatalf("json: %d findings, %d errors; want 2 and 1:\n%s", len(findings), errors, out)
	}

	out, _, _ = runScan(t, &Options{Paths: paths, Verbose: true}, cmdutil.OutputYAML)
	var items []map[string]any
	if err := yaml.Unmarshal([]byte(out), &items); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		delete(it, "type")
	}
	if !sameRecords(t, items, findings) {
		t.Fatalf("yaml differs from json:\n%s", out)
	}

	sarifPath := filepath.Join(t.TempDir(), "r.sarif")
	runScan(t, &Options{Paths: paths, Verbose: true, SARIF: sarifPath}, cmdutil.OutputJSON)
	raw, err := os.ReadFile(sarifPath)
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				Properties   map[string]any `json:"properties"`
				Suppressions []struct {
					Kind string `json:"kind"`
				} `json:"suppressions"`
			} `json:"results"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
				Notifications       []struct {
					Level string `json:"level"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(raw, &log); err != nil {
		t.Fatal(err)
	}
	var props []map[string]any
	suppressed := 0
	for _, r := range log.Runs[0].Results {
		props = append(props, r.Properties)
		suppressed += len(r.Suppressions)
	}
	if !sameRecords(t, props, findings) || suppressed != 1 {
		t.Fatalf("sarif differs from json (%d suppressed):\n%s", suppressed, raw)
	}
	if inv := log.Runs[0].Invocations; len(inv) != 1 || inv[0].ExecutionSuccessful || len(inv[0].Notifications) != 1 {
		t.Fatalf("sarif does not say the scan was incomplete:\n%s", raw)
	}

	out, errOut, _ := runScan(t, &Options{Paths: paths, Verbose: true}, cmdutil.OutputTable)
	if rows := strings.Count(strings.TrimSpace(out), "\n") + 1; rows != 2 || strings.Count(errOut, "suppressed (") != 1 || strings.Count(errOut, "scan incomplete") != 1 {
		t.Fatalf("table: %d lines (want a header and a row)\n%s\nstderr:\n%s", rows, out, errOut)
	}
}

func sameRecords(t *testing.T, a, b []map[string]any) bool {
	t.Helper()
	norm := func(rs []map[string]any) []string {
		var out []string
		for _, r := range rs {
			// Through JSON, so that YAML's and JSON's numbers compare alike.
			j, _ := json.Marshal(r)
			var m map[string]any
			json.NewDecoder(bytes.NewReader(j)).Decode(&m)
			j, _ = json.Marshal(m)
			out = append(out, string(j))
		}
		sort.Strings(out)
		return out
	}
	x, y := norm(a), norm(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			t.Logf("%s\n!=\n%s", x[i], y[i])
			return false
		}
	}
	return true
}
