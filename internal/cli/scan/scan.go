// Package scan is `waasctl scan`: a thin adapter over internal/scan.
package scan

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/scan"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// writeSARIF writes the --sarif report; a variable so that a test can make it fail.
var writeSARIF = fsutil.WriteFile

// maxSideFile caps the ignore file and the baseline report.
const maxSideFile = 64 << 20

// Options is what `scan` needs.
type Options struct {
	IO      *iostreams.IOStreams
	Keyring func() (credentials.Store, error)
	Output  func() cmdutil.OutputFormat

	// Verify asks the API whether a found key authenticates; set by --verify.
	Verify func(ctx context.Context, keyName string, key crypto.Signer) string

	Paths      []string
	Git        bool
	Staged     bool
	GitIgnore  bool
	OtherKeys  bool
	IgnoreFile string
	Baseline   string
	SARIF      string
	Verbose    bool
	NoKeyring  bool
	Workers    int
	MaxDepth   int
}

// NewCmdScan returns `scan`.
func NewCmdScan(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Keyring: f.Keyring, Output: func() cmdutil.OutputFormat { return f.Output }}
	var verify bool
	cmd := &cobra.Command{
		Use:   "scan [PATH...]",
		Short: "Find leaked WaaS and CDP keys in folders, files and app packages (exit 3 on a find)",
		Long: `Look for WaaS and CDP API keys in files and folders (default: the current folder), in
archives and app packages inside them (zip, apk, aab, ipa, jar, aar, tar, tar.gz, by content,
nested to depth 4), and on stdin (PATH "-"). Nothing is extracted to disk and symlinks inside
folders are not followed.

A key is reported only when it parses: an ECDSA P-256 key (SEC1 or PKCS#8, in any PEM
spelling: escaped, quoted, indented, URL-encoded, base64-wrapped, UTF-16) or a CDP Ed25519
secret whose public half matches its seed. Placeholders, public keys and truncated keys are
not. A finding shows the key's name, a redacted form and its fingerprint, never the key. A key
that is a keyring profile's CURRENT, PENDING or PREVIOUS key is marked live, with the command
that replaces and revokes it.

Suppress a finding with "waasctl:allow" next to its key (one marker allows one key: see
docs/scan.md), an --ignore-file of fingerprints, or a --baseline report (-o json or jsonl of an
earlier scan); --verbose lists what was suppressed. A keyring profile's key, and a key
--verify finds WaaS still accepts, are never suppressed.

Exit codes: 3 when a key was found (even if the scan was incomplete); else 1 when part of the
scan could not be completed (an unreadable file, an archive past a cap: see stderr, or the
"type":"error" records of -o json/jsonl); else 0. See docs/scan.md.`,
		Example: `  waasctl scan .
  waasctl scan -o jsonl build/app-release.apk
  git diff --cached | waasctl scan -
  waasctl scan --sarif results.sarif --baseline scan-baseline.json .`,
		Args: cmdutil.MinimumArgs(0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if len(opts.Paths) == 0 {
				opts.Paths = []string{"."}
			}
			if verify {
				opts.Verify = newVerifier(f).verify
			}
			if opts.Git && opts.Staged {
				return cmdutil.FlagErrorf("--git and --staged cannot be used together")
			}
			if opts.MaxDepth < 0 || opts.MaxDepth > 16 {
				return cmdutil.FlagErrorf("--max-archive-depth must be between 0 and 16")
			}
			if opts.Workers < 0 {
				return cmdutil.FlagErrorf("--workers must not be negative (0: one per CPU)")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Git, "git", false, "For each PATH that is a git repository, also scan every blob of its history (all refs), naming commit and author")
	fl.BoolVar(&opts.Staged, "staged", false, "Scan only what is staged for the next commit (for a pre-commit hook)")
	fl.BoolVar(&opts.GitIgnore, "gitignore", false, "Skip files a .gitignore ignores (needs git; default: scan everything)")
	fl.BoolVar(&opts.OtherKeys, "other-keys", false, "Also report private keys that are not WaaS/CDP keys (RSA, other curves), as kind other-private-key")
	fl.StringVar(&opts.IgnoreFile, "ignore-file", "", "`File` of fingerprints to ignore, one a line (optionally followed by a path)")
	fl.StringVar(&opts.Baseline, "baseline", "", "Earlier report (-o json or jsonl) whose findings are not reported again")
	fl.StringVar(&opts.SARIF, "sarif", "", "Also write a SARIF 2.1.0 report to `file` (\"-\": stdout instead of the usual output)")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false, "List suppressed findings too (on stderr for the table; marked in JSON)")
	fl.BoolVar(&verify, "verify", false, "Ask the API whether each found key still authenticates (one read-only GetPool of a random name per key; at most 10s a key, 30s in all)")
	fl.BoolVar(&opts.NoKeyring, "no-keyring", false, "Do not open the keyring to tell which findings are live keys")
	fl.IntVar(&opts.Workers, "workers", 0, "Files scanned at once (default: one per CPU)")
	fl.IntVar(&opts.MaxDepth, "max-archive-depth", scan.DefaultLimits.MaxArchiveDepth, "How deep nested archives are opened (a file inside an archive is at depth 1)")
	return cmd
}

// FindingRecord is a finding in -o json and jsonl. keyName, live and profile are always
// present, so that a script can read them without checking first.
type FindingRecord struct {
	Type        string `json:"type"` // "finding"
	Path        string `json:"path"`
	Line        int    `json:"line"`
	Kind        string `json:"kind"`
	KeyName     string `json:"keyName"`
	Fingerprint string `json:"fingerprint"`
	Redacted    string `json:"redacted"`
	Encoding    string `json:"encoding,omitempty"`
	Commit      string `json:"commit,omitempty"`
	Author      string `json:"author,omitempty"`
	Live        bool   `json:"live"`
	Profile     string `json:"profile"`
	Slot        string `json:"slot,omitempty"`
	NextStep    string `json:"nextStep,omitempty"`
	Suppressed  string `json:"suppressed,omitempty"`
	Verified    string `json:"verified,omitempty"`
}

// ErrorRecord says what part of the scan could not be completed.
type ErrorRecord struct {
	Type   string `json:"type"` // "error"
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

func nextStep(f scan.Finding) string {
	if !f.Live {
		return ""
	}
	return "waasctl keys revoke " + f.Profile + " --rotate-first --reason \"key found by waasctl scan\""
}

func findingRecord(f scan.Finding) FindingRecord {
	return FindingRecord{
		Type: "finding", Path: f.Path, Line: f.Line, Kind: f.Kind, KeyName: f.KeyName,
		Fingerprint: f.Fingerprint, Redacted: f.Redacted, Encoding: f.Encoding,
		Commit: f.Commit, Author: f.Author, Live: f.Live, Profile: f.Profile, Slot: f.Slot,
		NextStep: nextStep(f), Suppressed: f.Suppressed, Verified: f.Verified,
	}
}

func run(ctx context.Context, opts *Options) error {
	var ignore scan.Ignore
	if opts.IgnoreFile != "" {
		data, err := fsutil.ReadFile(ctx, opts.IgnoreFile, "ignore file", maxSideFile)
		if err != nil {
			return cmdutil.FlagErrorf("--ignore-file: %v", err)
		}
		if ignore, err = scan.ParseIgnore(data); err != nil {
			return cmdutil.FlagErrorf("--ignore-file %s: %v", opts.IgnoreFile, err)
		}
	}
	var baseline scan.Baseline
	if opts.Baseline != "" {
		data, err := fsutil.ReadFile(ctx, opts.Baseline, "baseline", maxSideFile)
		if err != nil {
			return cmdutil.FlagErrorf("--baseline: %v", err)
		}
		if baseline, err = scan.ParseBaseline(data); err != nil {
			return cmdutil.FlagErrorf("--baseline %s: %v", opts.Baseline, err)
		}
	}

	if opts.SARIF != "" && opts.SARIF != "-" {
		if err := checkWritable(opts.SARIF); err != nil {
			return cmdutil.FlagErrorf("--sarif %s: cannot write the report there (%s); nothing was scanned", opts.SARIF, textsafe.Line(err.Error()))
		}
	}

	limits := scan.DefaultLimits
	limits.MaxArchiveDepth = opts.MaxDepth
	sopts := scan.Options{Limits: limits, Workers: opts.Workers, OtherKeys: opts.OtherKeys, Stdin: opts.IO.In}
	sopts.Git, sopts.Staged, sopts.Verify = opts.Git, opts.Staged, opts.Verify
	if opts.GitIgnore {
		sopts.Skip = scan.GitIgnored(ctx)
	}
	progress := cmdutil.NewProgress(opts.IO, "files")
	var files atomic.Int64
	sopts.Progress = func(int64) { files.Add(1); progress.Add(1) }
	res := scan.New(sopts).Scan(ctx, opts.Paths)
	progress.Finish()
	if err := ctx.Err(); err != nil {
		return err
	}

	if len(res.Findings) > 0 && !opts.NoKeyring && opts.Keyring != nil {
		slots, err := keyringSlots(ctx, opts.Keyring)
		if err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "note: findings not checked against the keyring (%s); --no-keyring skips this\n", textsafe.Line(err.Error()))
		}
		scan.Tie(res.Findings, slots)
	}
	scan.Suppress(res.Findings, ignore, baseline)
	// A key WaaS still accepts is reported whatever suppresses it, as a live one is: a
	// baseline or an ignore file says the key was known, not that it stopped working.
	for i := range res.Findings {
		if res.Findings[i].Verified == verifiedAuthenticates {
			res.Findings[i].Suppressed = ""
		}
	}

	var shown, suppressed []scan.Finding
	for _, f := range res.Findings {
		if f.Suppressed != "" {
			suppressed = append(suppressed, f)
		} else {
			shown = append(shown, f)
		}
	}
	if err := printResult(opts, shown, suppressed, res.Errors); err != nil {
		return err
	}
	sarifFailed := false
	if opts.SARIF != "" && opts.SARIF != "-" {
		// After the usual output: a report that cannot be written must not take the findings
		// with it.
		err := writeSARIFReport(opts.SARIF, shown, verboseOnly(opts, suppressed), res.Errors)
		if err != nil {
			sarifFailed = true
			fmt.Fprintf(opts.IO.ErrOut, "waasctl: --sarif %s not written: %s; the findings are in the output above\n", textsafe.Line(opts.SARIF), textsafe.Line(err.Error()))
		}
	}
	for _, e := range res.Errors {
		fmt.Fprintf(opts.IO.ErrOut, "scan incomplete: %s: %s\n", textsafe.Line(e.Path), e.Reason)
	}
	for _, f := range shown {
		if f.Live {
			fmt.Fprintf(opts.IO.ErrOut, "LIVE: %s:%d holds profile %s's %s key (%s); replace and revoke it now: %s\n",
				textsafe.Line(f.Path), f.Line, f.Profile, f.Slot, credentials.ShortFingerprint(f.Fingerprint), nextStep(f))
		}
	}
	switch {
	case len(shown) > 0:
		return cmdutil.SilentExit(cmdutil.ExitFindings)
	case len(res.Errors) > 0 || sarifFailed:
		return cmdutil.SilentExit(cmdutil.ExitFailure)
	}
	return nil
}

// keyringSlots lists every profile's keys by fingerprint.
func keyringSlots(ctx context.Context, open func() (credentials.Store, error)) ([]scan.KeySlot, error) {
	store, err := open()
	if err != nil {
		return nil, err
	}
	profiles, err := store.Profiles(ctx)
	if err != nil {
		return nil, err
	}
	var slots []scan.KeySlot
	for _, p := range profiles {
		item, err := store.Get(ctx, p)
		if errors.Is(err, credentials.ErrNotFound) {
			continue
		}
		if err != nil {
			return slots, err
		}
		for _, s := range []struct {
			name string
			key  *credentials.StoredKey
		}{{"CURRENT", item.Current}, {"PENDING", item.Pending}, {"PREVIOUS", item.Previous}} {
			if s.key != nil {
				slots = append(slots, scan.KeySlot{Profile: p, Slot: s.name, Fingerprint: s.key.Fingerprint})
			}
		}
	}
	return slots, nil
}

// printResult prints the findings in the format asked for. JSON, JSONL, YAML and SARIF carry
// the same records (FindingRecord), suppressed ones too under --verbose; the table and CSV show
// the columns below, and list suppressed findings on stderr. What made the scan incomplete is
// in JSON records and SARIF notifications, and always on stderr.
func printResult(opts *Options, shown, suppressed []scan.Finding, errs []scan.ScanError) error {
	listed := shown
	if opts.Verbose {
		listed = append(append([]scan.Finding{}, shown...), suppressed...)
	}
	if opts.SARIF == "-" {
		data, err := sarifReport(shown, verboseOnly(opts, suppressed), errs)
		if err != nil {
			return err
		}
		_, err = opts.IO.Out.Write(data)
		return err
	}
	format := opts.Output()
	switch format {
	case cmdutil.OutputJSON, cmdutil.OutputJSONL:
		var recs []any
		for _, f := range listed {
			recs = append(recs, findingRecord(f))
		}
		for _, e := range errs {
			recs = append(recs, ErrorRecord{Type: "error", Path: e.Path, Reason: e.Reason})
		}
		return writeRecords(opts.IO.Out, format, recs)
	case cmdutil.OutputYAML:
		var recs []FindingRecord
		for _, f := range listed {
			recs = append(recs, findingRecord(f))
		}
		return cmdutil.PrintList(opts.IO, format, recs, columns)
	}
	var recs []FindingRecord
	for _, f := range shown {
		recs = append(recs, findingRecord(f))
	}
	if err := cmdutil.PrintList(opts.IO, format, recs, tableColumns(opts.IO.IsStdoutTTY() && (format == cmdutil.OutputDefault || format == cmdutil.OutputTable), recs)); err != nil {
		return err
	}
	if opts.Verbose {
		for _, f := range suppressed {
			fmt.Fprintf(opts.IO.ErrOut, "suppressed (%s): %s:%d %s %s\n", f.Suppressed, textsafe.Line(f.Path), f.Line, f.Kind, f.Fingerprint)
		}
	}
	return nil
}

// verboseOnly is the suppressed findings when --verbose lists them, else none.
func verboseOnly(opts *Options, suppressed []scan.Finding) []scan.Finding {
	if opts.Verbose {
		return suppressed
	}
	return nil
}

func writeSARIFReport(path string, shown, suppressed []scan.Finding, errs []scan.ScanError) error {
	data, err := sarifReport(shown, suppressed, errs)
	if err != nil {
		return err
	}
	return writeSARIF(path, data, 0o600)
}

// checkWritable says whether a report can be written at path: not a folder, and a file can be
// created beside it (the report is written atomically, through a temporary file there).
func checkWritable(path string) error {
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return errors.New("it is a folder")
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".waasctl-sarif-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

func writeRecords(w io.Writer, format cmdutil.OutputFormat, recs []any) error {
	// Author addresses keep their <>: the output is not for an HTML page.
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if format == cmdutil.OutputJSON {
		if recs == nil {
			recs = []any{}
		}
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// tableColumns are the columns to print: all of them for a script (the
// same columns every time), and for a person at a terminal without COMMIT
// and VERIFIED when no finding has one (no --git, no --verify), which would
// otherwise widen every line by two empty columns.
func tableColumns(terminal bool, recs []FindingRecord) []cmdutil.Column[FindingRecord] {
	if !terminal {
		return columns
	}
	hasCommit := slices.ContainsFunc(recs, func(r FindingRecord) bool { return r.Commit != "" })
	hasVerified := slices.ContainsFunc(recs, func(r FindingRecord) bool { return r.Verified != "" })
	return slices.DeleteFunc(slices.Clone(columns), func(c cmdutil.Column[FindingRecord]) bool {
		return (c.Header == "COMMIT" && !hasCommit) || (c.Header == "VERIFIED" && !hasVerified)
	})
}

var columns = []cmdutil.Column[FindingRecord]{
	{Header: "PATH", Value: func(f FindingRecord) string { return f.Path }},
	{Header: "LINE", Value: func(f FindingRecord) string { return strconv.Itoa(f.Line) }},
	{Header: "KIND", Value: func(f FindingRecord) string { return f.Kind }},
	{Header: "KEY NAME", Value: func(f FindingRecord) string { return f.KeyName }},
	{Header: "FINGERPRINT", Value: func(f FindingRecord) string { return f.Fingerprint }},
	{Header: "LIVE", Value: func(f FindingRecord) string {
		if !f.Live {
			return "-"
		}
		return f.Profile + " " + f.Slot
	}},
	{Header: "COMMIT", Value: func(f FindingRecord) string { return f.Commit }},
	{Header: "VERIFIED", Value: func(f FindingRecord) string { return f.Verified }},
}
