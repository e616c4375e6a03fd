package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/team/teamtest"
	"github.com/waasctl/waasctl/internal/testctx"
)

// contractEnv runs waasctl in-process, as Main does, against a sandbox, with its own home,
// config file and file keyring.
type contractEnv struct {
	t    *testing.T
	dir  string
	url  string
	vals map[string]string // names the recipes use: a pool, a wallet, two snapshots...
}

func newContractEnv(t *testing.T) *contractEnv {
	credentials.SetFileKDFCostForTesting(credentials.MinFileKDFIterations)
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 7, Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 2, AddressesPerWallet: 1, OperationsPerGroup: 1}})
	dir := t.TempDir()
	for k, v := range map[string]string{
		"HOME": dir, "XDG_CONFIG_HOME": filepath.Join(dir, "config"), "XDG_STATE_HOME": filepath.Join(dir, "state"),
		"WAASCTL_CONFIG": filepath.Join(dir, "config.yaml"), "WAASCTL_STATE_DIR": filepath.Join(dir, "state"),
		"WAASCTL_KEYRING_BACKEND": "file", "WAASCTL_KEYRING_DIR": filepath.Join(dir, "keyring"), "WAASCTL_KEYRING_PASSPHRASE": "pw",
		"WAASCTL_PROFILE": "", "WAASCTL_API_KEY_NAME": "", "WAASCTL_API_KEY_PRIVATE_KEY": "", "WAASCTL_STATE_DSN": "", "WAASCTL_AGE_IDENTITY": "",
	} {
		t.Setenv(k, v)
	}
	key, err := json.Marshal(map[string]string{"name": sb.Key.Name, "privateKey": sb.Key.PrivateKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.json"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	e := &contractEnv{t: t, dir: dir, url: sb.URL, vals: map[string]string{"dir": dir}}
	e.must("config", "set", "profiles.default.endpoint", sb.URL)
	e.must("config", "set", "profiles.default.policy.max_age", "90d")
	e.must("config", "set", "profiles.default.policy.grace", "1h")
	e.must("config", "set", "profiles.default.issuer.type", "manual")
	e.must("auth", "add", "default", "--key-file", filepath.Join(dir, "key.json"))
	e.vals["pool"] = e.must("pools", "list", "--jq", ".[0].name")
	e.vals["wallet"] = e.must("wallets", "list", "--all", "--jq", ".[0].name")
	e.vals["group"] = e.must("device-groups", "list", "--all", "--jq", ".[0].name")
	e.vals["address"] = e.must("addresses", "list", "--wallet", e.vals["wallet"], "--jq", ".[0].name")
	e.vals["snapA"] = filepath.Join(dir, "a.jsonl")
	e.vals["snapB"] = filepath.Join(dir, "b.jsonl")
	e.must("inventory", "snapshot", "--out", e.vals["snapA"])
	e.must("pools", "create", "Contract test")
	e.must("inventory", "snapshot", "--out", e.vals["snapB"])
	// A ledger that knows the whole estate, for the audits that reconcile with one.
	var ledger bytes.Buffer
	if err := sandboxtest.WriteLedgerCSV(&ledger, sb.Server.Inventory()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ledger.csv"), ledger.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	e.must("config", "set", "profiles.default.ledger.dsn", filepath.Join(dir, "ledger.csv"))
	if err := os.MkdirAll(filepath.Join(dir, "clean"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clean", "README"), []byte("nothing secret here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// teamStore points the commands of the rest of t at a new, initialised team store in a database
// of the server scripts/with-postgres.sh starts, or skips t without one (fails it under
// WAASCTL_REQUIRE_POSTGRES=1).
func (e *contractEnv) teamStore(t *testing.T) {
	admin := os.Getenv(sandboxtest.PostgresDSNEnv)
	if admin == "" {
		if os.Getenv(sandboxtest.RequirePostgresEnv) == "1" {
			t.Fatalf("%s is unset but %s=1", sandboxtest.PostgresDSNEnv, sandboxtest.RequirePostgresEnv)
		}
		t.Skip("needs the team store: run under scripts/with-postgres.sh")
	}
	name := "output_contract_" + strings.NewReplacer("/", "_", " ", "_").Replace(strings.ToLower(t.Name()))
	dsn, err := teamtest.CreateDatabase(context.Background(), admin, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = teamtest.DropDatabase(context.Background(), admin, name) })
	t.Setenv("WAASCTL_STATE_DSN", dsn)
	t.Setenv("WAASCTL_KEYRING_DIR", filepath.Join(e.dir, "keyring-"+name)) // a host of its own
	e.must("team", "identity", "new")
	e.must("team", "init")
}

// run executes waasctl with args the way Main does and returns its exit code and output.
func (e *contractEnv) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	// One bound for the whole sweep (e.t is the parent test: every command of every format
	// runs under it), as long as a loaded machine needs; a hang still ends it.
	ctx := testctx.WithBound(e.t, 15*time.Minute)
	f := newFactory(ctx)
	ios, _, out, errOut := iostreams.Test()
	f.IOStreams = ios
	code = Run(ctx, f, args)
	return code, out.String(), errOut.String()
}

func (e *contractEnv) must(args ...string) string {
	e.t.Helper()
	code, out, errOut := e.run(args...)
	if code != 0 {
		e.t.Fatalf("waasctl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return strings.TrimSpace(out)
}

// dataCommands says how to run each command that prints data against the sandbox, and the exit
// codes it may end with there (0 unless listed). A command that prints data and has no entry
// here fails TestEveryCommandKeepsTheOutputContract, so a new command is covered when it lands.
var dataCommands = map[string]struct {
	args     func(v map[string]string) []string
	exit     []int
	postgres bool // needs the team store (scripts/with-postgres.sh)
}{
	"waasctl addresses list":     {args: func(v map[string]string) []string { return []string{"--wallet", v["wallet"]} }},
	"waasctl audit operations":   {},
	"waasctl audit quota":        {},
	"waasctl audit resources":    {},
	"waasctl auth backends":      {},
	"waasctl auth list":          {},
	"waasctl auth status":        {},
	"waasctl balances list":      {args: func(v map[string]string) []string { return []string{"--address", v["address"]} }},
	"waasctl config get":         {args: func(map[string]string) []string { return []string{"profiles.default.endpoint"} }},
	"waasctl config profiles":    {},
	"waasctl config validate":    {},
	"waasctl config view":        {},
	"waasctl device-groups get":  {args: func(v map[string]string) []string { return []string{v["group"]} }},
	"waasctl device-groups list": {args: func(map[string]string) []string { return []string{"--all"} }},
	"waasctl incident assess":    {args: func(v map[string]string) []string { return []string{"--since", v["snapA"]} }, exit: []int{0, 3}},
	"waasctl inventory diff":     {args: func(v map[string]string) []string { return []string{v["snapA"], v["snapB"]} }, exit: []int{3}},
	"waasctl inventory snapshot": {args: func(v map[string]string) []string {
		return []string{"--out", filepath.Join(v["dir"], "snap-"+v["run"]+".jsonl")}
	}},
	"waasctl keys check":           {args: func(map[string]string) []string { return []string{"--max-age", "90d"} }},
	"waasctl keys status":          {},
	"waasctl log show":             {},
	"waasctl log verify":           {},
	"waasctl networks list":        {},
	"waasctl operations list":      {args: func(map[string]string) []string { return []string{"--all"} }},
	"waasctl pools create":         {args: func(v map[string]string) []string { return []string{"Pool " + v["run"]} }},
	"waasctl pools get":            {args: func(v map[string]string) []string { return []string{v["pool"]} }},
	"waasctl pools list":           {},
	"waasctl scan":                 {args: func(v map[string]string) []string { return []string{filepath.Join(v["dir"], "clean")} }},
	"waasctl team recipients list": {postgres: true},
	"waasctl team status":          {postgres: true},
	"waasctl transactions list":    {args: func(map[string]string) []string { return []string{"--all"} }},
	"waasctl wallets get":          {args: func(v map[string]string) []string { return []string{v["wallet"]} }},
	"waasctl wallets list":         {args: func(map[string]string) []string { return []string{"--all"} }},
}

// leafCommands is every command that runs, from the tree itself.
func leafCommands(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if s.Runnable() && !s.HasSubCommands() && s.Name() != "help" && !isHelpTopic(s) {
				out = append(out, s)
			}
			walk(s)
		}
	}
	walk(root)
	return out
}

// TestEveryCommandKeepsTheOutputContract runs every command that prints data, against the
// sandbox, in every -o format and with --jq and --template, and checks what a script relies on:
// exit 0, JSON that parses (and is what --jq . and --template '{{json .}}' give back), JSON
// Lines whose every line parses, CSV with its header row and one width, TSV (-o tsv) with a
// header of field names and one width, YAML that parses. Every command that prints no data
// must refuse each output flag with exit 2.
func TestEveryCommandKeepsTheOutputContract(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every command against a sandbox")
	}
	e := newContractEnv(t)
	ios, _, _, _ := iostreams.Test()
	run := 0
	for _, cmd := range leafCommands(NewCmdRoot(&cmdutil.Factory{IOStreams: ios})) {
		path := cmd.CommandPath()
		words := strings.Fields(path)[1:]
		formats, data := printsData(cmd)
		if !data {
			t.Run(path, func(t *testing.T) {
				if !strings.Contains(cmd.Long, "Output: no data to format") {
					t.Errorf("%s --help does not say that it prints no data", path)
				}
				for _, flags := range [][]string{{"-o", "json"}, {"-o", "tsv"}, {"--jq", "."}, {"--template", "{{.}}"}, {"--no-headers"}} {
					code, stdout, stderr := e.run(append(slices.Clone(words), flags...)...)
					if code != 2 || stdout != "" || !strings.Contains(stderr, "prints no data") {
						t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want exit 2, 'prints no data'", path, strings.Join(flags, " "), code, stdout, stderr)
					}
				}
			})
			continue
		}
		var jsonValue any
		var csvHeader []string
		var tsvOut string
		tableOut := "unset"
		recipe, ok := dataCommands[path]
		if !ok {
			t.Errorf("%s prints data but dataCommands has no way to run it: add one", path)
			continue
		}
		t.Run(path, func(t *testing.T) {
			if !strings.Contains(cmd.Long, "\nOutput: -o ") || !strings.Contains(cmd.Long, "--jq EXPR") {
				t.Errorf("%s --help does not say which -o formats it prints and that --jq works", path)
			}
			defer func() {
				// An empty list prints no table, nor does a report with no findings to list.
				if derived, listed := notFields[path]; tableOut == "" && jsonValue != nil && !reflect.DeepEqual(jsonValue, []any{[]any{}}) && (!listed || derived != nil) {
					t.Errorf("%s -o table printed nothing, though -o json has data", path)
				}
				if csvHeader != nil && !sameColumns(tsvOut, csvHeader) {
					t.Errorf("%s -o tsv does not have the columns of -o csv %v (a header row of them, or for one object a line for each):\n%s", path, csvHeader, tsvOut)
				}
				missing := slices.DeleteFunc(notJSONFields(csvHeader, jsonValue), func(h string) bool {
					allowed, listed := notFields[path]
					return listed && (allowed == nil || slices.Contains(allowed, h))
				})
				if len(missing) > 0 {
					t.Errorf("%s: CSV headers %v are not JSON fields of its rows: set Column.Field, or list them in notFields with the reason", path, missing)
				}
			}()
			if recipe.postgres {
				e.teamStore(t)
			}
			if formats == nil {
				formats = cmdutil.OutputFormats
			}
			for _, format := range slices.Concat(formats, []cmdutil.OutputFormat{"jq", "template"}) {
				run++
				e.vals["run"] = string(format)
				argv := slices.Clone(words)
				if recipe.args != nil {
					argv = append(argv, recipe.args(e.vals)...)
				}
				switch format {
				case "jq":
					argv = append(argv, "--jq", "tojson")
				case "template":
					argv = append(argv, "--template", "{{json .}}\n")
				default:
					argv = append(argv, "-o", string(format))
				}
				code, stdout, stderr := e.run(argv...)
				if want := recipe.exit; !slices.Contains(want, code) && (want != nil || code != 0) {
					t.Errorf("waasctl %s: exit %d: %s", strings.Join(argv, " "), code, stderr)
					continue
				}
				if err := checkFormat(format, stdout); err != nil {
					t.Errorf("waasctl %s: %v; stdout:\n%s", strings.Join(argv, " "), err, stdout)
					continue
				}
				switch format {
				case cmdutil.OutputTSV:
					tsvOut = stdout
				case cmdutil.OutputTable:
					tableOut = stdout
				case cmdutil.OutputCSV:
					if rows, _ := csv.NewReader(strings.NewReader(stdout)).ReadAll(); len(rows) > 0 {
						csvHeader = rows[0]
					}
				case cmdutil.OutputJSON:
					jsonValue = decodeJSONStream(stdout)
				case "jq", "template":
					if got := decodeJSONStream(stdout); jsonValue != nil && !reflect.DeepEqual(got, jsonValue) && !volatile[path] {
						t.Errorf("waasctl %s does not give back what -o json printed:\n%s", strings.Join(argv, " "), stdout)
					}
				}
			}
		})
	}
	if run == 0 {
		t.Fatal("no command was run")
	}
}

// notFields are the CSV columns that name no JSON field of the rows, and why: nil for commands
// whose rows are worked out from a report (findings, changes), which the JSON gives whole.
var notFields = map[string][]string{
	"waasctl audit operations": nil, "waasctl audit resources": nil, "waasctl inventory diff": nil, "waasctl log verify": nil,
	"waasctl audit quota": {"limit", "percent"}, // omitted from JSON when there is no limit, as here
	"waasctl auth list":   {"age", "rotation"},  // worked out from current.addedAt, pending and previous
	"waasctl keys check":  {"age"},              // ageDays in JSON
	"waasctl keys status": {"age", "rotation"},  // from addedAt; rotation omitted when none is in progress
	"waasctl log show":    {"whoHost", "keys"},  // who and host; keys from the entry's key fields
}

// volatile commands print something new each run (a new pool, a new snapshot path), so their
// --jq . cannot be compared with the -o json of another run.
var volatile = map[string]bool{
	"waasctl pools create": true, "waasctl inventory snapshot": true, "waasctl incident assess": true, "waasctl audit quota": true, "waasctl keys check": true,
	"waasctl log show": true, "waasctl log verify": true, "waasctl auth status": true, "waasctl keys status": true,
}

// checkFormat checks that out is well-formed in format, as a program reading it would.
func checkFormat(format cmdutil.OutputFormat, out string) error {
	switch format {
	case cmdutil.OutputJSON:
		if !json.Valid([]byte(out)) {
			return errors.New("-o json is not one JSON document")
		}
	case "jq", "template":
		if decodeJSONStream(out) == nil {
			return errors.New("not a stream of JSON values")
		}
	case cmdutil.OutputJSONL:
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if out != "" && !json.Valid([]byte(line)) {
				return errors.New("a JSON Lines line does not parse: " + line)
			}
		}
	case cmdutil.OutputCSV:
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return errors.New("no header row")
		}
		for _, h := range rows[0] {
			if h == "" || strings.ContainsAny(h, " ") {
				return errors.New("header " + h + " is not a field name")
			}
		}
	case cmdutil.OutputTSV:
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if out == "" {
			return errors.New("-o tsv printed nothing, not even its header row")
		}
		width := strings.Count(lines[0], "\t")
		for _, l := range lines {
			if strings.Count(l, "\t") != width {
				return errors.New("lines of different widths")
			}
		}
	case cmdutil.OutputYAML:
		dec := yaml.NewDecoder(strings.NewReader(out))
		for {
			var v any
			if err := dec.Decode(&v); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeJSONStream decodes every JSON value in out (nil if one does not parse, or there is none).
func decodeJSONStream(out string) any {
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	var vals []any
	for {
		var v any
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil
		}
		vals = append(vals, v)
	}
	if vals == nil {
		return nil
	}
	return vals
}

// notJSONFields returns the names in header that are no field of the rows in the JSON: the
// items of its top-level list, or of the list inside a report object that matches best, or the
// object itself (a dotted name is a path into nested objects).
func notJSONFields(header []string, value any) []string {
	vals, _ := value.([]any)
	if len(header) == 0 || len(vals) != 1 {
		return nil
	}
	var best []string
	for i, rows := range rowCandidates(vals[0]) {
		var missing []string
		for _, h := range header {
			if !slices.ContainsFunc(rows, func(it any) bool { return hasPath(it, strings.Split(h, ".")) }) {
				missing = append(missing, h)
			}
		}
		if i == 0 || len(missing) < len(best) {
			best = missing
		}
	}
	return best
}

// rowCandidates are the lists of objects in v, and v itself as a one-row list.
func rowCandidates(v any) [][]any {
	var out [][]any
	switch v := v.(type) {
	case []any:
		if len(v) > 0 {
			if _, ok := v[0].(map[string]any); ok {
				out = append(out, v)
			}
		}
		for _, it := range v {
			if m, ok := it.(map[string]any); ok {
				for _, c := range m {
					out = append(out, rowCandidates(c)...)
				}
			}
		}
	case map[string]any:
		out = append(out, []any{v})
		for _, c := range v {
			out = append(out, rowCandidates(c)...)
		}
	}
	return out
}

func hasPath(v any, path []string) bool {
	for _, part := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// sameColumns reports whether TSV output has the columns header names: as its header row (a
// list), or as the first field of each line (one object, a line per field).
func sameColumns(tsv string, header []string) bool {
	lines := strings.Split(strings.TrimSuffix(tsv, "\n"), "\n")
	if slices.Equal(strings.Split(lines[0], "\t"), header) {
		return true
	}
	if len(lines) != len(header) {
		return false
	}
	for i, l := range lines {
		if k, _, _ := strings.Cut(l, "\t"); k != header[i] {
			return false
		}
	}
	return true
}
