// Package cmdutil holds what every command shares: the Factory of lazily built dependencies,
// the documented exit codes and the error types that select them, and flag helpers.
package cmdutil

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/cli/prompter"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/textsafe"
	"github.com/waasctl/waasctl/internal/waas"
)

// Factory hands dependencies to commands. Expensive or fallible ones are funcs, called only by
// the commands that need them, so that `waasctl version` or `--help` never read a config file or
// open a keyring (aws-vault hanging on dbus for --help is the cautionary tale).
type Factory struct {
	IOStreams *iostreams.IOStreams

	AppVersion string
	AppCommit  string
	AppDate    string

	// Config loads the config file once, on first call.
	Config func() (*config.Config, error)

	// APIClient builds the WaaS client from the credentials, the endpoint
	// and the client flags. Commands that talk to WaaS call it in their run
	// function; nothing else touches credentials.
	APIClient func() (*waas.Client, error)

	// Keyring opens the credential store on first call: the team store (internal/team) when
	// the profile's state backend is postgres (config state, or WAASCTL_STATE_DSN), else the
	// OS keyring (or the backend --keyring-backend names).
	Keyring func() (credentials.Store, error)

	// LocalKeyring opens this host's own keyring, whatever the state backend: it holds the
	// host's age identity in team mode. Nil in tests that need none.
	LocalKeyring func() (credentials.Store, error)

	// TeamStore opens the team store of the state backend (docs/team.md) on first call, or
	// returns an error saying how to configure one. It does not check the schema. Nil in tests
	// that need none.
	TeamStore func() (*team.Store, error)

	// AgeIdentity loads this host's age identity (WAASCTL_AGE_IDENTITY, else the local
	// keyring); an error matching team.ErrNoIdentity when it has none.
	AgeIdentity func() (*team.Identity, error)

	// Prompter asks questions on the terminal; check IOStreams.CanPrompt first.
	Prompter prompter.Prompter

	// Values of the global flags. The root command's flag parsing fills them in, so commands read
	// them in their run function, never in their constructor.
	Profile        string
	Endpoint       string
	Output         OutputFormat
	JQ             string // --jq: a jq expression over the JSON output
	Template       string // --template: a Go template over the JSON output
	NoHeaders      bool   // --no-headers: no header row in table, tsv and csv
	KeyFile        string
	KeyringBackend string
	KeyringTimeout time.Duration
	Concurrency    int
	Rate           float64
	NoAdapt        bool // --no-adapt: send at --rate instead of finding the rate
	Verbose        bool // -v: log each change of the adaptive rate, and a summary
	PageSize       int
	// InsecureHTTP is --insecure-http: a plain http:// endpoint off loopback
	// is allowed (with a warning) instead of refused.
	InsecureHTTP bool

	insecureWarning sync.Once     // the cleartext warning is printed once a run
	filter          *filterWriter // --jq or --template, while the command runs
	adaptive        adaptiveClients
}

// ClientForKey builds a WaaS client for key at endpoint, with the global
// client flags of f. A plain http:// endpoint off loopback is refused (exit
// 2) unless --insecure-http or the profile's insecure_http allows it, and
// then a warning says so on stderr.
func ClientForKey(key *credentials.APIKey, profile, endpoint string, f *Factory) (*waas.Client, error) {
	insecure, err := allowInsecureHTTP(f, profile)
	if err != nil {
		return nil, err
	}
	if u, err := url.Parse(strings.TrimRight(endpoint, "/")); err == nil && waas.Cleartext(u) {
		if !insecure {
			return nil, NewExitError(ExitUsage, &waas.InsecureEndpointError{Endpoint: u.Redacted()})
		}
		f.insecureWarning.Do(func() {
			fmt.Fprintf(f.IOStreams.ErrOut, "WARNING: endpoint %s is not HTTPS and --insecure-http (or insecure_http) allows it: the API key's JWT travels in clear, for anyone on the path to read and replay\n", u.Redacted())
		})
	}
	form := waas.FormWaaS
	if key.Algorithm() == "Ed25519" {
		form = waas.FormCDP // the legacy form has no EdDSA
	}
	signer, err := waas.NewSigner(key.Name, key.Signer, form)
	if err != nil {
		return nil, err
	}
	opts := waas.Options{
		Endpoint: endpoint, Signer: signer, UserAgent: "waasctl/" + f.AppVersion,
		Rate: f.Rate, Concurrency: max(f.Concurrency, 1), PageSize: max(f.PageSize, 1),
		AllowInsecureHTTP: insecure,
	}
	if f.IOStreams.IsStderrTTY() {
		// Ten silent retries of an unreachable endpoint look like a hang at a terminal.
		errOut := f.IOStreams.ErrOut
		opts.OnUnreachable = func(call string, err error, attempts int) {
			fmt.Fprintf(errOut, "waasctl: %s is not answering (%s); retrying up to %d times: check --endpoint (or the profile's endpoint) and the network, or press Ctrl-C\n",
				endpoint, textsafe.Line(err.Error()), attempts)
		}
	}
	noAdapt, err := profileNoAdapt(f, profile)
	if err != nil {
		return nil, err
	}
	f.adaptiveOptions(context.Background(), &opts, key, noAdapt)
	c, err := waas.New(opts)
	if err != nil {
		return nil, err
	}
	f.trackAdaptive(c, endpoint, key)
	return c, nil
}

// profileNoAdapt is --no-adapt, else the profile's no_adapt.
func profileNoAdapt(f *Factory, profile string) (bool, error) {
	if f.NoAdapt || f.Config == nil {
		return f.NoAdapt, nil
	}
	cfg, err := f.Config()
	if err != nil {
		return false, err
	}
	return cfg.Profiles[profile].NoAdapt, nil
}

// allowInsecureHTTP is --insecure-http, else the profile's insecure_http.
func allowInsecureHTTP(f *Factory, profile string) (bool, error) {
	if f.InsecureHTTP || f.Config == nil {
		return f.InsecureHTTP, nil
	}
	cfg, err := f.Config()
	if err != nil {
		return false, err
	}
	return cfg.Profiles[profile].InsecureHTTP, nil
}
