package configcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"gopkg.in/yaml.v3"
)

// SetOptions is what `config set` needs.
type SetOptions struct {
	IO         *iostreams.IOStreams
	ConfigFile func() (string, error)
	Key        config.KeyPath
	// Value is the new setting, built from the words given by the setting's type
	// (config.ValueNode).
	Value *yaml.Node
}

// NewCmdSet returns `config set`.
func NewCmdSet(f *cmdutil.Factory, runF func(context.Context, *SetOptions) error) *cobra.Command {
	opts := &SetOptions{IO: f.IOStreams, ConfigFile: config.ConfigFile}
	cmd := &cobra.Command{
		Use:   "set KEY VALUE...",
		Short: "Change one setting, keeping the file's comments and order",
		Long: `Change one setting of the config file, creating the file, the profile and the sections on
the way. The value is read by the setting's type:
  a text or duration    one word:            profiles.prod.policy.grace 24h
  a number              quota.pools 20
  true or false         insecure_http true
  a command             every word after KEY is one argument (flags included, no -- needed):
                          profiles.prod.issuer.command /usr/local/bin/waas-issuer --org acme
                        or one YAML list: '[waas-issuer, --org, acme]'
  a section or an item  YAML flow: 'profiles.prod.sinks[+]' '{type: envfile, path: /srv/.env}'

An index one past the end of a list, or [+], appends an item. The changed file must still load:
a misspelt key or a value of the wrong type is refused and the file is left as it was. A
value that holds a private key is refused without being shown: keys go in the keyring
(waasctl auth add).`,
		Example: `  # an exec issuer
  waasctl config set profiles.prod.issuer.type exec
  waasctl config set profiles.prod.issuer.command /usr/local/bin/waas-issuer --org acme
  # two sinks: the proxy's .env file (restarted after), and a secret manager
  waasctl config set 'profiles.prod.sinks[0]' '{type: envfile, path: /srv/proxy/.env}'
  waasctl config set 'profiles.prod.sinks[0].restart' systemctl restart waas-proxy
  waasctl config set 'profiles.prod.sinks[+]' '{type: exec, command: [vault-put, secret/waas]}'
  # a ledger and a policy
  waasctl config set profiles.prod.ledger.dsn 'postgres://auditor@db.internal/ledger?sslmode=verify-full'
  waasctl config set profiles.prod.policy.max_age 90d`,
		Args: cmdutil.MinimumArgs(2, "give a KEY and a VALUE, e.g. config set profiles.prod.policy.grace 24h"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Key, err = config.ParseKeyPath(args[0]); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			for _, w := range args[1:] {
				if credentials.LooksSecret(w) {
					return cmdutil.FlagErrorf("the value for %s holds a private key (a value of %d characters, not shown): keys go in the keyring, with waasctl auth add", opts.Key, len(w))
				}
			}
			if opts.Value, err = config.ValueNode(opts.Key, args[1:]); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return setRun(cmd.Context(), opts)
		},
		ValidArgsFunction: completeKeys(f),
	}
	// Everything after KEY is the value, flags of the command being configured included.
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func setRun(_ context.Context, opts *SetOptions) error {
	path, err := opts.ConfigFile()
	if err != nil {
		return err
	}
	if err := config.SetFile(path, opts.Key, func(doc *yaml.Node) error { return config.Set(doc, opts.Key, opts.Value) }); err != nil {
		return err
	}
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "Set %s in %s.\n", opts.Key, path)
	}
	return nil
}
