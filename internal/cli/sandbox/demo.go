package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/reconcile"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// DemoOptions is what `waasctl sandbox demo` needs.
type DemoOptions struct {
	IO    *iostreams.IOStreams
	Seed  int64
	Shape sandbox.EstateShape
	// StateDSN is --state-dsn, else WAASCTL_STATE_DSN: a PostgreSQL server for the team step,
	// which is skipped without one.
	StateDSN string
}

// NewCmdDemo returns `sandbox demo`, the README's quick start.
func NewCmdDemo(f *cmdutil.Factory, runF func(context.Context, *DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{IO: f.IOStreams, Seed: 42, Shape: sandbox.EstateShape{Pools: 3, WalletsPerPool: 4, AddressesPerWallet: 1, OperationsPerGroup: 2}}
	cmd := &cobra.Command{
		Use:   "demo [--state-dsn postgres://...]",
		Short: "Walk through what waasctl does, against an embedded sandbox",
		Long: `Start an embedded WaaS sandbox on loopback with a small seeded estate, walk through
what waasctl does with real requests and real output, then stop it and remove
everything it wrote. Needs no Coinbase account and no configuration.

Given a PostgreSQL server (--state-dsn, or WAASCTL_STATE_DSN), it also shows team
mode (docs/team.md): two hosts, each with its own state folder, keyring and age
identity in the demo's temporary folder, share one rotation that one starts and
the other finishes. The demo creates a database of its own on that server and
drops it at the end, so the role needs CREATEDB; a team's store is never touched.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.StateDSN == "" {
				opts.StateDSN = strings.TrimSpace(os.Getenv(config.StateDSNEnv))
			}
			if opts.StateDSN != "" && !isPostgresURL(opts.StateDSN) {
				return cmdutil.ExitErrorf(cmdutil.ExitUsage, "sandbox demo: the team step's DSN (--state-dsn or %s) must be a postgres:// URL: the demo creates a database of its own on that server", config.StateDSNEnv)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return demoRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.StateDSN, "state-dsn", "", "A postgres:// URL of a PostgreSQL server for the team step (default $"+config.StateDSNEnv+"); the demo makes and drops a database of its own there")
	return cmd
}

// demo is one run of the walk-through.
type demo struct {
	out    io.Writer
	srv    *sandbox.Server
	url    string
	client *waas.Client
	key    waasapi.APIKey
	step   int
	seed   int64
	// stateDSN is the PostgreSQL server of the team step; "" skips it.
	stateDSN string

	// Set by the rotation step, for the responder's: the engine that rotates profile demo,
	// its audit log, and the snapshot taken with the new key (the baseline if it leaks).
	eng      *rotation.Engine
	auditDir string
	baseline *inventory.Baseline
}

func demoRun(ctx context.Context, opts *DemoOptions) (err error) {
	tmp, err := os.MkdirTemp("", "waasctl-demo-*") // 0700
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	srv, err := sandbox.New(sandbox.Config{Seed: opts.Seed, Shape: opts.Shape})
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe(ctx, "127.0.0.1:0", false, func(u string) { ready <- u }) }()
	defer func() {
		stop()
		if serr := <-served; err == nil {
			err = serr
		}
	}()
	var baseURL string
	select {
	case baseURL = <-ready:
	case err := <-served:
		return fmt.Errorf("starting the sandbox: %w", err)
	}

	d := &demo{out: opts.IO.Out, srv: srv, url: baseURL, seed: opts.Seed, stateDSN: opts.StateDSN}
	for _, step := range []func(context.Context, string) error{d.start, d.pools, d.wallets, d.operations, d.enumerate, d.quota, d.createPool, d.keyAdmin, d.rotate, d.respond, d.forgeries, d.counts, d.teamStep} {
		if err := step(ctx, tmp); err != nil {
			return err
		}
	}
	fmt.Fprintf(d.out, "\nDone. The sandbox is stopped and %s is removed: nothing is left behind.\n", tmp)
	return nil
}

func (d *demo) heading(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.out, "\n%d. %s\n\n", d.step, fmt.Sprintf(format, args...))
}

func (d *demo) table(header []string, rows [][]string) {
	t := tablewriter.NewWriter(d.out)
	t.Header(header)
	_ = t.Bulk(rows)
	_ = t.Render()
}

func (d *demo) start(ctx context.Context, tmp string) error {
	d.heading("Start a WaaS sandbox and fetch an API key")
	key, err := d.srv.CreateAPIKey(d.srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "demo"})
	if err != nil {
		return err
	}
	// Written as the portal's download would be, 0600 in a 0700 folder, to
	// show the format; the private key itself is never printed.
	keyFile := filepath.Join(tmp, "cdp_api_key.json")
	data, _ := json.Marshal(bootstrapKeyFile{Name: key.Name, PrivateKey: key.PrivateKey})
	if err := os.WriteFile(keyFile, data, 0o600); err != nil {
		return err
	}
	d.key = key
	d.client, err = clientForKey(d.url, key, waas.Options{})
	if err != nil {
		return err
	}
	st := d.srv.Stats(d.srv.DefaultOrg())
	fmt.Fprintf(d.out, "Sandbox:      %s (loopback only)\n", d.url)
	fmt.Fprintf(d.out, "Estate:       %d pools, %d MPC wallets, seed %d: the same IDs on every machine\n", st.Pools, st.MPCWallets, d.seed)
	fmt.Fprintf(d.out, "API key:      %s\n", key.Name)
	fmt.Fprintf(d.out, "Fingerprint:  %s (how waasctl names a key wherever the key itself must not appear)\n", credentials.ShortFingerprint(key.Fingerprint))
	fmt.Fprintf(d.out, "Key file:     %s, mode 0600\n", filepath.Base(keyFile))
	fmt.Fprintf(d.out, "\nEvery request below carries a fresh ES256 JWT signed with this key, as the official client's are.\n")
	return nil
}

func (d *demo) pools(ctx context.Context, _ string) error {
	d.heading("List pools (PoolService.ListPools)")
	resp, err := d.client.ListPools(ctx, waas.PageRequest{})
	if err != nil {
		return err
	}
	var rows [][]string
	for _, p := range resp.Pools {
		rows = append(rows, []string{p.Name, p.DisplayName})
	}
	d.table([]string{"Name", "Display name"}, rows)
	return nil
}

func (d *demo) firstPool(ctx context.Context) (string, error) {
	resp, err := d.client.ListPools(ctx, waas.PageRequest{Size: 1})
	if err != nil {
		return "", err
	}
	if len(resp.Pools) == 0 {
		return "", errors.New("the sandbox has no pools")
	}
	return resp.Pools[0].Name, nil
}

func (d *demo) wallets(ctx context.Context, _ string) error {
	pool, err := d.firstPool(ctx)
	if err != nil {
		return err
	}
	d.heading("List the MPC wallets of %s, two per page, following nextPageToken", pool)
	var rows [][]string
	page := waas.PageRequest{Size: 2}
	for pages := 1; ; pages++ {
		resp, err := d.client.ListMPCWallets(ctx, pool, page)
		if err != nil {
			return err
		}
		for _, w := range resp.MPCWallets {
			rows = append(rows, []string{fmt.Sprint(pages), path.Base(w.Name), path.Base(w.DeviceGroup)})
		}
		if resp.NextPageToken == "" {
			break
		}
		page.Token = resp.NextPageToken
	}
	d.table([]string{"Page", "Wallet ID", "Device group ID"}, rows)
	fmt.Fprintf(d.out, "\nNames are %s/mpcWallets/ID and %s/deviceGroups/ID.\n", pool, pool)
	return nil
}

func (d *demo) operations(ctx context.Context, _ string) error {
	pool, err := d.firstPool(ctx)
	if err != nil {
		return err
	}
	resp, err := d.client.ListMPCWallets(ctx, pool, waas.PageRequest{Size: 1})
	if err != nil {
		return err
	}
	if len(resp.MPCWallets) == 0 {
		return fmt.Errorf("%s has no wallets", pool)
	}
	group := resp.MPCWallets[0].DeviceGroup
	d.heading("Pending MPC operations of device group %s (MPCKeyService.ListMPCOperations)", path.Base(group))
	ops, err := d.client.ListMPCOperations(ctx, group)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, op := range ops.MPCOperations {
		rows = append(rows, []string{path.Base(op.Name), op.Kind()})
	}
	d.table([]string{"MPC operation ID", "Kind"}, rows)
	fmt.Fprintln(d.out, "\nA leaked key can queue signing requests like these for your users: step 10 shows how")
	fmt.Fprintln(d.out, "waasctl finds one that your own records do not know.")
	return nil
}

// enumerate is what `waasctl wallets list --all` and `operations list --all` do.
func (d *demo) enumerate(ctx context.Context, _ string) error {
	d.heading("Enumerate every wallet and pending operation: waasctl wallets list --all; operations list --all")
	c, err := clientForKey(d.url, d.key, waas.Options{Concurrency: 4, PageSize: 3})
	if err != nil {
		return err
	}
	wallets, ops := 0, 0
	for g, err := range c.OperationsOf(ctx, c.AllWallets(ctx)) {
		if err != nil {
			return err
		}
		wallets++
		ops += len(g.Operations)
	}
	st := c.Stats()
	fmt.Fprintf(d.out, "%d wallets and %d pending operations, in %d requests: pools are listed 4 at a time\n", wallets, ops, st.Requests)
	fmt.Fprintln(d.out, "(--concurrency), pages of 3 (--page-size) are followed, and the output keeps the order a")
	fmt.Fprintln(d.out, "one-by-one listing would have. Failed requests (429, 5xx, dropped connections) are retried")
	fmt.Fprintln(d.out, "with backoff, so a listing is exact or fails: it is never silently short.")
	return nil
}

// quota is what `waasctl audit quota` does.
func (d *demo) quota(ctx context.Context, _ string) error {
	limits := inventory.Limits{inventory.Wallets: 14, inventory.Pools: 10}
	d.heading("Audit quota usage: waasctl audit quota --limit wallets=14,pools=10 --warn-at 80%%")
	counts, err := inventory.Count(ctx, d.client, nil)
	if err != nil {
		return err
	}
	var rows [][]string
	crossed := false
	for _, u := range inventory.Evaluate(counts, limits, 80, nil) {
		limit, used := "-", "-"
		if u.Percent != nil {
			limit, used = fmt.Sprint(u.Limit), fmt.Sprintf("%.1f%%", *u.Percent)
		}
		rows = append(rows, []string{u.Resource, fmt.Sprint(u.Count), limit, used, u.Status})
		crossed = crossed || u.Crossed()
	}
	d.table([]string{"Resource", "Count", "Limit", "Used", "Status"}, rows)
	if crossed {
		fmt.Fprintln(d.out, "\nWallets are past 80% of their limit: the command would exit 3, failing a CI job.")
	}
	fmt.Fprintln(d.out, "WaaS has no usage API: the counts come from enumeration, and each run saves a census so")
	fmt.Fprintln(d.out, "the next one shows growth, such as a leaked key creating wallets.")
	return nil
}

func (d *demo) createPool(ctx context.Context, _ string) error {
	d.heading("Create a pool (PoolService.CreatePool)")
	p, err := d.client.CreatePool(ctx, "Demo Pool", "demo-pool")
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Created %s (%q)\n", p.Name, p.DisplayName)
	_, err = d.client.CreatePool(ctx, "Demo Pool", "demo-pool")
	fmt.Fprintf(d.out, "Creating it again: %v\n", err)
	return nil
}

func (d *demo) keyAdmin(ctx context.Context, _ string) error {
	d.heading("Create, use and revoke a second API key (the sandbox's stand-in for the developer portal)")
	created, err := d.client.CreateAPIKey(ctx, waasapi.CreateAPIKeyRequest{Nickname: "ci-rotation"})
	if err != nil {
		return err
	}
	second, err := clientForKey(d.url, *created, waas.Options{})
	if err != nil {
		return err
	}
	if _, err := second.ListPools(ctx, waas.PageRequest{Size: 1}); err != nil {
		return fmt.Errorf("the new key should authenticate: %w", err)
	}
	fmt.Fprintf(d.out, "Created %s (%s); it authenticates.\n", created.Name, credentials.ShortFingerprint(created.Fingerprint))
	if _, err := d.client.RevokeAPIKey(ctx, created.Name); err != nil {
		return err
	}
	_, err = second.ListPools(ctx, waas.PageRequest{Size: 1})
	if waas.HTTPCode(err) != http.StatusUnauthorized {
		return fmt.Errorf("a revoked key should get 401, got %v", err)
	}
	fmt.Fprintf(d.out, "Revoked it; its next request: %v\n\n", err)
	keys, err := d.client.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, k := range keys.APIKeys {
		used := "never"
		if k.LastUseTime != nil {
			used = k.LastUseTime.Local().Format(time.TimeOnly)
		}
		rows = append(rows, []string{k.Nickname, credentials.ShortFingerprint(k.Fingerprint), string(k.State), used})
	}
	d.table([]string{"Key", "Fingerprint", "State", "Last used"}, rows)
	return nil
}

// rotate is what `waasctl keys rotate` does, with a keyring in memory and
// the proxy's .env in the demo's temporary folder.
func (d *demo) rotate(ctx context.Context, tmp string) error {
	d.heading("Rotate the API key: waasctl keys rotate demo --yes")
	old, err := credentials.NewAPIKey(d.key.Name, d.key.PrivateKey, "demo")
	if err != nil {
		return err
	}
	store := credentials.NewMemoryStore()
	if err := store.Put(ctx, &credentials.Item{Profile: "demo", Current: &credentials.StoredKey{
		Name: old.Name, PrivateKey: d.key.PrivateKey, Fingerprint: old.Fingerprint, Algorithm: old.Algorithm(), AddedAt: time.Now().UTC(), AddedBy: "demo",
	}}); err != nil {
		return err
	}
	envPath := filepath.Join(tmp, "proxy.env")
	if err := os.WriteFile(envPath, []byte("HTTP_ADDRESS=0.0.0.0:8091\n"), 0o600); err != nil {
		return err
	}
	auditDir := filepath.Join(tmp, "audit")
	audit, err := auditlog.Open(auditDir)
	if err != nil {
		return err
	}
	check := func(ctx context.Context, key *credentials.APIKey) ([]string, error) {
		secret, err := key.SecretText()
		if err != nil {
			return nil, err
		}
		c, err := clientForKey(d.url, waasapi.APIKey{Name: key.Name, PrivateKey: secret}, waas.Options{})
		if err != nil {
			return nil, err
		}
		var names []string
		for p, err := range c.Pools(ctx) {
			if err != nil {
				return nil, err
			}
			names = append(names, p.Name)
		}
		return names, nil
	}
	eng := &rotation.Engine{
		Profile: "demo", StateDir: filepath.Join(tmp, "state"), Store: store,
		Issuer: &rotation.SandboxIssuer{Client: d.client},
		Sinks:  []rotation.Sink{&rotation.EnvfileSink{Path: envPath}},
		Check:  check, Audit: audit,
		Report: func(step rotation.Step, msg string) { fmt.Fprintf(d.out, "%-10s %s\n", step+":", msg) },
		Holder: rotation.Holder{Command: "sandbox demo"},
	}
	j, err := eng.Rotate(ctx)
	if err != nil {
		return err
	}
	d.eng, d.auditDir = eng, auditDir
	// The rest of the demo speaks with the new key, as a consumer would.
	item, err := store.Get(ctx, "demo")
	if err != nil {
		return err
	}
	d.key = waasapi.APIKey{Name: item.Current.Name, PrivateKey: item.Current.PrivateKey}
	if d.client, err = clientForKey(d.url, d.key, waas.Options{}); err != nil {
		return err
	}
	_, err = check(ctx, old)
	fmt.Fprintf(d.out, "\nThe old key's next request: %v\n", err)
	_, fp, err := rotation.ReadEnvKey(envPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "The proxy's .env now holds %s (%s); its other lines are untouched.\n", j.NewKey.Name, credentials.ShortFingerprint(fp))
	rep, err := auditlog.Verify(auditDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Audit log: %d hash-chained entries, verified OK=%v (waasctl log verify).\n", rep.Entries, rep.OK)
	fmt.Fprintln(d.out, "Killed at any step, 'waasctl keys rotate demo --resume' finishes the rotation and --abort undoes it.")
	// keys rotate takes a snapshot with the new key: the baseline if this key ever leaks.
	meta := inventory.SnapshotMeta{Time: time.Now().UTC(), Endpoint: d.client.Endpoint(), Organization: d.client.Organization(), Profile: "demo", Source: inventory.SourceRotation}
	path, _, err := inventory.SaveSnapshot(ctx, d.client, filepath.Join(tmp, "state", "snapshots"), "", meta)
	if err != nil {
		return err
	}
	// The new key's promotion snapshot: taken before anyone else could have used it.
	d.baseline = &inventory.Baseline{SnapshotFile: inventory.SnapshotFile{Path: path, SnapshotMeta: meta},
		Reason: "the suspected key's promotion snapshot", PredatesLeak: true}
	fmt.Fprintln(d.out, "A snapshot of the estate taken with the new key is the baseline if it ever leaks.")
	return nil
}

// forgeries shows that the sandbox checks tokens as the real service does.
func (d *demo) forgeries(ctx context.Context, _ string) error {
	d.heading("Forged tokens are refused")
	b64 := func(v any) string {
		j, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(j)
	}
	now := time.Now().Unix()
	claims := map[string]any{"sub": d.client.KeyName(), "iss": "coinbase-cloud", "aud": []string{"waas_pool_service"}, "nbf": now, "exp": now + 60,
		"uri": "GET " + d.url[len("http://"):] + "/waas/pools/v1/pools"}
	unsigned := b64(map[string]any{"alg": "none", "kid": d.client.KeyName(), "typ": "JWT"}) + "." + b64(claims) + "."
	for _, c := range []struct{ what, token string }{
		{"no token", ""},
		{`a token with "alg": "none"`, unsigned},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.url+"/waas/pools/v1/pools", nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		var st waasapi.Status
		_ = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		fmt.Fprintf(d.out, "%-28s -> HTTP %d: %s\n", c.what, resp.StatusCode, st.Message)
	}
	return nil
}

func (d *demo) counts(ctx context.Context, _ string) error {
	d.heading("What the estate holds now (sandbox-only GET /sandbox/v1/estate)")
	st, err := d.client.SandboxEstate(ctx)
	if err != nil {
		return err
	}
	d.table([]string{"Pools", "MPC wallets", "Device groups", "Addresses", "Pending operations"},
		[][]string{{fmt.Sprint(st.Pools), fmt.Sprint(st.MPCWallets), fmt.Sprint(st.DeviceGroups), fmt.Sprint(st.Addresses), fmt.Sprint(st.PendingOperations)}})
	return nil
}

func clientForKey(baseURL string, key waasapi.APIKey, opts waas.Options) (*waas.Client, error) {
	k, err := credentials.ParsePrivateKey(key.PrivateKey)
	if err != nil {
		return nil, err
	}
	if opts.Signer, err = waas.NewSigner(key.Name, k, waas.FormWaaS); err != nil {
		return nil, err
	}
	opts.Endpoint = baseURL
	return waas.New(opts)
}

// respond walks docs/incident-response.md: the key leaks and someone queues a signing request
// with it; the audit against the middle tier's ledger finds it, the key is revoked after an
// emergency rotation, and the assessment reports what was done.
func (d *demo) respond(ctx context.Context, tmp string) error {
	d.heading("The key leaks: find the signing request nobody asked for, revoke the key, assess")
	// The middle tier's ledger: everything in the estate now is its own.
	ledgerPath := filepath.Join(tmp, "ledger.csv")
	if err := writeLedger(ledgerPath, d.srv.Inventory()); err != nil {
		return err
	}
	planted, err := d.plantSignature(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Someone holding the leaked key queued a signing request on %s.\n\n", path.Base(planted))

	fmt.Fprintln(d.out, "$ waasctl audit operations --ledger ledger.csv")
	ledger, err := reconcile.Open(ctx, reconcile.Spec{Source: ledgerPath})
	if err != nil {
		return err
	}
	defer ledger.Close()
	ops, err := reconcile.AuditOperations(ctx, d.client, ledger, reconcile.Scope{}, nil)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, u := range ops.Unknown {
		rows = append(rows, []string{path.Base(u.Operation), u.Kind, path.Base(u.DeviceGroup)})
	}
	d.table([]string{"Unknown MPC operation", "Kind", "Device group"}, rows)
	fmt.Fprintf(d.out, "%d pending operations, %d unknown to the ledger: the command exits 3. The middle tier must\n", ops.Pending, len(ops.Unknown))
	fmt.Fprintln(d.out, "never pass these to a device (docs/reconciliation.md, the signing-spam filter).")
	if len(ops.Unknown) != 1 {
		return fmt.Errorf("the audit found %d unknown operations, want the planted one", len(ops.Unknown))
	}

	fmt.Fprintln(d.out, "\n$ waasctl keys revoke demo --rotate-first --reason \"key pasted in a public gist\" --yes")
	planterSecret := d.key.PrivateKey
	leaked, err := credentials.NewAPIKey(d.key.Name, d.key.PrivateKey, "demo")
	if err != nil {
		return err
	}
	audit, err := auditlog.Open(d.auditDir)
	if err != nil {
		return err
	}
	reason := "key pasted in a public gist"
	entry := func(outcome string) error {
		_, err := audit.Append(auditlog.Entry{Command: "keys revoke", Profile: "demo", Action: "revoke.rotate-first", Outcome: outcome, Detail: reason,
			KeyNames: []string{leaked.Name}, Fingerprints: []string{leaked.Fingerprint}})
		return err
	}
	if err := entry("started"); err != nil {
		return err
	}
	// The key-admin calls go out with the key in use now, the leaked one, as keys revoke's do;
	// and an emergency allows no grace.
	d.eng.Issuer, d.eng.Grace = &rotation.SandboxIssuer{Client: d.client}, 0
	if _, err := d.eng.Rotate(ctx); err != nil {
		return err
	}
	if err := entry(auditlog.OutcomeOK); err != nil {
		return err
	}
	item, err := d.eng.Store.Get(ctx, "demo")
	if err != nil {
		return err
	}
	d.key = waasapi.APIKey{Name: item.Current.Name, PrivateKey: item.Current.PrivateKey}
	if d.client, err = clientForKey(d.url, d.key, waas.Options{}); err != nil {
		return err
	}
	if _, err := d.client.ListPools(ctx, waas.PageRequest{Size: 1}); err != nil {
		return fmt.Errorf("the new key should authenticate: %w", err)
	}
	attacker, err := clientForKey(d.url, waasapi.APIKey{Name: leaked.Name, PrivateKey: planterSecret}, waas.Options{})
	if err != nil {
		return err
	}
	_, err = attacker.ListPools(ctx, waas.PageRequest{Size: 1})
	if waas.HTTPCode(err) != http.StatusUnauthorized {
		return fmt.Errorf("the leaked key should get 401, got %v", err)
	}
	fmt.Fprintf(d.out, "\nThe leaked key's next request: %v\n", err)
	fmt.Fprintln(d.out, "The middle tier already has the new key; the reason is in the audit log (waasctl log show).")

	fmt.Fprintln(d.out, "\n$ waasctl incident assess demo --ledger ledger.csv")
	now := filepath.Join(tmp, "state", "snapshots", "incident.jsonl")
	if _, _, err := inventory.SaveSnapshot(ctx, d.client, "", now,
		inventory.SnapshotMeta{Time: time.Now().UTC(), Endpoint: d.client.Endpoint(), Organization: d.client.Organization(), Profile: "demo", Source: inventory.SourceIncident}); err != nil {
		return err
	}
	a, err := reconcile.Assess(ctx, reconcile.AssessInput{Snapshot: now, Baseline: d.baseline, Ledger: ledger, Client: d.client})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Verdict: %s (exit 3). Unknown pending operations:\n", a.Verdict)
	for _, u := range a.UnknownOperations {
		fmt.Fprintf(d.out, "  %s  %s on %s\n", path.Base(u.Operation), u.Kind, path.Base(u.DeviceGroup))
	}
	if a.Verdict == reconcile.VerdictClean || len(a.UnknownOperations) != 1 || a.UnknownOperations[0].Operation != ops.Unknown[0].Operation {
		return fmt.Errorf("the assessment missed the planted signing request: verdict %s, %d unknown operations", a.Verdict, len(a.UnknownOperations))
	}
	fmt.Fprintln(d.out, "The full report (Markdown, or -o json) also diffs the estate against the baseline snapshot and")
	fmt.Fprintln(d.out, "says what it cannot know. The runbook: docs/incident-response.md.")
	return nil
}

// plantSignature plays the attacker with the current (leaked) key: a signing request on the
// first wallet's MPC key, found through its address as any client would. It returns the
// wallet's device group.
func (d *demo) plantSignature(ctx context.Context) (string, error) {
	attacker, err := clientForKey(d.url, d.key, waas.Options{})
	if err != nil {
		return "", err
	}
	pool, err := d.firstPool(ctx)
	if err != nil {
		return "", err
	}
	wallets, err := attacker.ListMPCWallets(ctx, pool, waas.PageRequest{Size: 1})
	if err != nil {
		return "", err
	}
	if len(wallets.MPCWallets) == 0 {
		return "", fmt.Errorf("%s has no wallets", pool)
	}
	w := wallets.MPCWallets[0]
	addrs, err := attacker.ListAddresses(ctx, "networks/"+sandbox.SeedNetwork, w.Name, waas.PageRequest{Size: 1})
	if err != nil {
		return "", err
	}
	if len(addrs.Addresses) == 0 || len(addrs.Addresses[0].MPCKeys) == 0 {
		return "", fmt.Errorf("%s has no address with an MPC key", w.Name)
	}
	digest := sha256.Sum256([]byte("transfer everything to the attacker"))
	if _, err := attacker.CreateSignature(ctx, addrs.Addresses[0].MPCKeys[0], digest[:]); err != nil {
		return "", err
	}
	return w.DeviceGroup, nil
}

// writeLedger writes inv as the middle tier's CSV ledger (kind,name,owner), one owner per
// device group: what docs/reconciliation.md describes.
func writeLedger(path string, inv sandbox.Inventory) error {
	owner := make(map[string]string, len(inv.DeviceGroups))
	for i, g := range inv.DeviceGroups {
		owner[g.Name] = fmt.Sprintf("user-%d", i+1)
	}
	var b strings.Builder
	cw := csv.NewWriter(&b)
	_ = cw.Write([]string{"kind", "name", "owner"})
	for _, w := range inv.Wallets {
		_ = cw.Write([]string{"wallet", w.Name, owner[w.DeviceGroup]})
	}
	for _, g := range inv.DeviceGroups {
		_ = cw.Write([]string{"device_group", g.Name, owner[g.Name]})
	}
	for _, op := range inv.Operations {
		_ = cw.Write([]string{"operation", op.Name, owner[op.DeviceGroup]})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
