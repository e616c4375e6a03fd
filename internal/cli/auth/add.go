package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/cli/prompter"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/waas"
)

// AddOptions is what `auth add` needs.
type AddOptions struct {
	IO       *iostreams.IOStreams
	Keyring  func() (credentials.Store, error)
	Prompter prompter.Prompter
	Config   func() (*config.Config, error)
	// Verify checks that key authenticates at endpoint.
	Verify func(ctx context.Context, key *credentials.APIKey, endpoint string) error
	// AuditDir is the audit log's folder.
	AuditDir func() (string, error)
	// TeamState is the team store as the profile's lock, journal and audit log; nil (or a nil
	// answer) keeps them on this host.
	TeamState TeamStateFunc
	// StateDir is where the profile's rotation lock and journal live.
	StateDir func() (string, error)

	Profile      string
	KeyFile      string
	KeyStdin     bool
	Endpoint     string // from the global --endpoint: recorded in the config
	NoVerify     bool
	RemoveSource bool
	Force        bool
}

// NewCmdAdd returns `auth add`.
func NewCmdAdd(f *cmdutil.Factory, runF func(context.Context, *AddOptions) error) *cobra.Command {
	opts := &AddOptions{IO: f.IOStreams, Keyring: f.Keyring, Prompter: f.Prompter, Config: f.Config, AuditDir: auditlog.DefaultDir, StateDir: config.StateDir, TeamState: teamStateOf(f)}
	opts.Verify = verifyKey(f, &opts.Profile)
	cmd := &cobra.Command{
		Use:   "add [PROFILE] [--key-file FILE | --key-stdin]",
		Short: "Store an API key in the keyring for a profile",
		Long: `Store an API key in the OS keyring as the profile's current key.

The key comes from the file the portal downloads ({"name", "privateKey"}, or the CDP
{"id", "privateKey"}), a .env file with COINBASE_CLOUD_API_KEY_NAME and
COINBASE_CLOUD_API_KEY_PRIVATE_KEY, standard input (--key-stdin), or, on a terminal,
a prompt that does not echo. Never as a flag value: every user of the host can read argv.

The key is checked first: it must parse (PKCS#8 is converted to the SEC1 form the official
client reads) and authenticate against the profile's endpoint (--no-verify skips that).
With --endpoint the endpoint is recorded in the profile. --remove-source deletes the key
file once the key is safely stored.

The profile's keys are not changed while a rotation of it is in progress (finish or abort it
first), and auth add waits for no one: exit 6 while another command holds the profile's lock.
A key that another profile already holds is refused without --force: rotating one profile
would revoke the other's key.`,
		Example: `  waasctl auth add prod --key-file ~/Downloads/cdp_api_key.json --remove-source
  waasctl --endpoint http://127.0.0.1:8080 auth add sandbox --key-file key.json
  vault kv get -field=key secret/waas | waasctl auth add prod --key-stdin`,
		Args: cmdutil.MaximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Profile, err = cmdutil.ResolveProfile(cmd, f, args); err != nil {
				return err
			}
			opts.Endpoint = f.Endpoint
			opts.KeyFile = f.KeyFile // the global --key-file names the file to import here
			if err := cmdutil.Exclusive(map[string]bool{"key-file": opts.KeyFile != "", "key-stdin": opts.KeyStdin}); err != nil {
				return err
			}
			if opts.RemoveSource && opts.KeyFile == "" {
				return cmdutil.FlagErrorf("--remove-source needs --key-file")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return addRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.KeyStdin, "key-stdin", false, "Read the key file's content from standard input")
	cmd.Flags().BoolVar(&opts.NoVerify, "no-verify", false, "Store the key without checking that it authenticates")
	cmd.Flags().BoolVar(&opts.RemoveSource, "remove-source", false, "Delete the --key-file once the key is stored")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "Replace the profile's current key (the old one is kept as previous)")
	return cmd
}

func addRun(ctx context.Context, opts *AddOptions) (err error) {
	data, source, err := readKeyInput(ctx, opts)
	if err != nil {
		return err
	}
	key, err := credentials.ParseKeyInput(data, source)
	if err != nil {
		return cmdutil.ExitErrorf(cmdutil.ExitUsage, "invalid API key from %s: %v", source, err)
	}
	secret, err := key.SecretText()
	if err != nil {
		return cmdutil.ExitErrorf(cmdutil.ExitUsage, "invalid API key from %s: %v", source, err)
	}
	// From here the attempt names a key: the audit log records it with its outcome, whatever
	// that is. A failure after the key was stored (the endpoint, --remove-source) is a detail:
	// the keyring changed.
	stored, replaced := false, ""
	defer func() {
		detail := "verified"
		if opts.NoVerify {
			detail = "not verified (--no-verify)"
		}
		if replaced != "" {
			detail += "; replaced " + replaced + ", kept as previous"
		}
		outcome, detail := outcomeOf(err, detail)
		if stored {
			outcome = auditlog.OutcomeOK
		}
		auditKeyring(ctx, opts.IO.ErrOut, opts.AuditDir, opts.TeamState, credentials.NewGuard(secret), auditlog.Entry{
			Command: "auth add", Profile: opts.Profile, Action: "add", Outcome: outcome, Detail: detail,
			KeyNames: []string{key.Name}, Fingerprints: []string{key.Fingerprint},
		})
	}()

	endpoint, err := profileEndpoint(opts.Config, opts.Profile, opts.Endpoint)
	if err != nil {
		return err
	}
	if !opts.NoVerify {
		if err := opts.Verify(ctx, key, endpoint); err != nil {
			if waas.HTTPCode(err) == 401 || waas.HTTPCode(err) == 403 {
				return cmdutil.ExitErrorf(cmdutil.ExitAuth, "%s rejected the key %s: %v; nothing was stored", endpoint, key.Name, err)
			}
			return fmt.Errorf("could not check the key against %s: %w; nothing was stored (--no-verify stores it unchecked)", endpoint, err)
		}
	}

	store, err := opts.Keyring()
	if err != nil {
		return err
	}
	lock, err := lockProfile(ctx, opts.StateDir, opts.TeamState, opts.Profile, "auth add")
	if err != nil {
		return err
	}
	defer lock.Release(context.WithoutCancel(ctx))
	item, err := store.Get(ctx, opts.Profile)
	switch {
	case errors.Is(err, credentials.ErrNotFound):
		item = &credentials.Item{Profile: opts.Profile}
	case errors.Is(err, credentials.ErrItemDamaged) && opts.Force:
		// What cannot be read (or, in team mode, was not sealed by a pinned member) is not
		// kept: --force stores the key given as the only one.
		fmt.Fprintf(opts.IO.ErrOut, "warning: replacing what profile %q held, which cannot be used: %v\n", opts.Profile, err)
		item = &credentials.Item{Profile: opts.Profile}
	case err != nil:
		return err
	}
	if item.Current != nil && item.Current.Fingerprint != key.Fingerprint && !opts.Force {
		return cmdutil.FlagErrorf("profile %q already holds %s (%s); pass --force to replace it (the old key is kept as previous)",
			opts.Profile, item.Current.Name, credentials.ShortFingerprint(item.Current.Fingerprint))
	}
	if item.Pending != nil {
		// lockProfile found no rotation in progress: this PENDING key is one a rotation left.
		return fmt.Errorf("profile %q holds a PENDING key %s (%s) that no rotation in progress accounts for: revoke it first with `waasctl keys revoke %s --key %s --reason ...`",
			opts.Profile, item.Pending.Name, credentials.ShortFingerprint(item.Pending.Fingerprint), opts.Profile, item.Pending.Name)
	}
	others, err := rotation.HoldersOf(ctx, store, opts.Profile, key.Name, key.Fingerprint)
	if err != nil {
		return err
	}
	var heldElsewhere []*credentials.StoredKey // the same key in the other profiles' slots
	for _, h := range others {
		if !opts.Force {
			return cmdutil.FlagErrorf("%s is already %s: with one key in two profiles, rotating one revokes the other's key; add that profile's own key, or pass --force to store it anyway", key.Name, h)
		}
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s is also %s; rotating either profile will be refused unless --revoke-shared, which breaks the other.\n", key.Name, h)
		if other, err := store.Get(ctx, h.Profile); err == nil {
			heldElsewhere = append(heldElsewhere, other.Current, other.Pending, other.Previous)
		}
	}
	// When the profile got the key says since when it signs with it (incident assess trusts a
	// snapshot another key took before then, keys check counts the key's age from it): adding a
	// key the keyring already holds again, a setup script run twice or a key moved from another
	// profile, must not move it later.
	addedAt := time.Now().UTC()
	// A key another profile of this keyring holds (the same estate, maybe) was in use since
	// that profile got it.
	for _, held := range append([]*credentials.StoredKey{item.Current, item.Previous}, heldElsewhere...) {
		if held != nil && held.Fingerprint == key.Fingerprint && !held.AddedAt.IsZero() && held.AddedAt.Before(addedAt) {
			addedAt = held.AddedAt
		}
	}
	if item.Current != nil && item.Current.Fingerprint != key.Fingerprint {
		if item.Previous != nil {
			// Only one previous key is kept. Dropping one WaaS still accepts would leave an
			// active key that waasctl no longer knows of, so it must be revoked first.
			if err := checkPreviousRevoked(ctx, opts, item.Previous, endpoint); err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.ErrOut, "The older key %s (%s), which WaaS already refuses, is no longer kept in the keyring.\n",
				item.Previous.Name, credentials.ShortFingerprint(item.Previous.Fingerprint))
		}
		item.Previous = item.Current
		replaced = credentials.ShortFingerprint(item.Current.Fingerprint)
	}
	item.Current = &credentials.StoredKey{
		Name: key.Name, PrivateKey: secret, Fingerprint: key.Fingerprint, Algorithm: key.Algorithm(),
		AddedAt: addedAt, AddedBy: "auth add", Source: source,
	}
	if err := stillLocked(ctx, lock, opts.Profile); err != nil {
		return err
	}
	if err := store.Put(ctx, item); err != nil {
		return err
	}
	stored = true
	if opts.Endpoint != "" {
		cfg, err := opts.Config()
		if err != nil {
			return err
		}
		if err := config.SetProfileEndpoint(cfg.Path, opts.Profile, opts.Endpoint); err != nil {
			return fmt.Errorf("the key is stored, but recording the endpoint failed: %w", err)
		}
	}
	verified := " (not checked: --no-verify)"
	if !opts.NoVerify {
		verified = "; it authenticates against " + endpoint
	}
	fmt.Fprintf(opts.IO.ErrOut, "Stored %s (%s) as the current key of profile %q in the %s keyring%s.\n",
		key.Name, credentials.ShortFingerprint(key.Fingerprint), opts.Profile, store.Backend(), verified)
	if replaced != "" {
		// Say where the replaced key went: the keyring still holds it (and WaaS may still accept it).
		fmt.Fprintf(opts.IO.ErrOut, "The replaced key %s (%s) is kept as the profile's previous key.\n", item.Previous.Name, replaced)
	}
	if opts.RemoveSource {
		if err := os.Remove(opts.KeyFile); err != nil {
			return fmt.Errorf("the key is stored, but deleting %s failed: %w; delete it by hand", opts.KeyFile, err)
		}
		fmt.Fprintf(opts.IO.ErrOut, "Deleted %s.\n", opts.KeyFile)
	}
	return nil
}

// checkPreviousRevoked returns nil only when WaaS refuses prev (HTTP 401): the one case in
// which the keyring may forget it.
func checkPreviousRevoked(ctx context.Context, opts *AddOptions, prev *credentials.StoredKey, endpoint string) error {
	revokeFirst := fmt.Sprintf("revoke it first with `waasctl keys revoke %s --key %s --reason ...`, then add the key again", opts.Profile, prev.Name)
	if opts.NoVerify {
		return fmt.Errorf("profile %q keeps the previous key %s (%s), and with --no-verify waasctl cannot check that WaaS refuses it before forgetting it: %s",
			opts.Profile, prev.Name, credentials.ShortFingerprint(prev.Fingerprint), revokeFirst)
	}
	k, err := credentials.NewAPIKey(prev.Name, prev.PrivateKey, "keyring")
	if err != nil {
		return err
	}
	err = opts.Verify(ctx, k, endpoint)
	switch {
	case waas.HTTPCode(err) == http.StatusUnauthorized:
		return nil
	case err == nil:
		return fmt.Errorf("profile %q keeps the previous key %s (%s), which WaaS still accepts; replacing the current key would forget it while it is active: %s",
			opts.Profile, prev.Name, credentials.ShortFingerprint(prev.Fingerprint), revokeFirst)
	}
	return fmt.Errorf("checking that WaaS refuses the previous key %s before forgetting it: %w; nothing was stored", prev.Name, err)
}

// readKeyInput reads the key from the file, stdin or a prompt.
func readKeyInput(ctx context.Context, opts *AddOptions) ([]byte, string, error) {
	switch {
	case opts.KeyFile != "":
		data, err := credentials.ReadKeyFile(ctx, opts.KeyFile)
		if err != nil {
			return nil, "", fmt.Errorf("--key-file: %w", err)
		}
		return data, "file " + opts.KeyFile, nil
	case opts.KeyStdin:
		data, err := fsutil.ReadAll(opts.IO.In, "the key on stdin", credentials.MaxKeyFileSize)
		return data, "stdin", err
	case opts.IO.CanPrompt():
		answer, err := opts.Prompter.Secret("Path of the key file the portal downloaded, or its JSON on one line")
		if err != nil {
			return nil, "", err
		}
		answer = strings.TrimSpace(answer)
		if strings.HasPrefix(answer, "{") {
			return []byte(answer), "prompt", nil
		}
		data, err := credentials.ReadKeyFile(ctx, answer)
		if err != nil {
			// Never quote the answer: it may be a pasted secret, not a path.
			return nil, "", cmdutil.FlagErrorf("the answer is neither key JSON nor a readable file (the input is not shown); use --key-file FILE")
		}
		return data, "file " + answer, nil
	}
	return nil, "", cmdutil.FlagErrorf("no key given: use --key-file FILE or --key-stdin (there is no terminal to prompt on)")
}

// profileEndpoint is --endpoint, else the profile's, else the default.
func profileEndpoint(cfgFn func() (*config.Config, error), profile, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if cfgFn != nil {
		cfg, err := cfgFn()
		if err != nil {
			return "", err
		}
		if p, ok := cfg.Profiles[profile]; ok && p.Endpoint != "" {
			return p.Endpoint, nil
		}
	}
	return waas.DefaultEndpoint, nil
}

// verifyKey checks a key with the cheapest authenticated read there is.
// profile is read when the check runs, once the arguments are parsed.
func verifyKey(f *cmdutil.Factory, profile *string) func(ctx context.Context, key *credentials.APIKey, endpoint string) error {
	return func(ctx context.Context, key *credentials.APIKey, endpoint string) error {
		c, err := cmdutil.ClientForKey(key, *profile, endpoint, f)
		if err != nil {
			return err
		}
		_, err = c.ListPools(ctx, waas.PageRequest{Size: 1})
		return err
	}
}
