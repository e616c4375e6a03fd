package configcmd

import (
	"fmt"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/reconcile"
	"gopkg.in/yaml.v3"
)

// masked returns a copy of n fit to print: the password of every DSN (ledger.dsn, state.dsn,
// any key named dsn) masked as the ledger's messages mask it, and any value that holds private
// key material (a key pasted into the wrong setting) replaced by its length. The config is
// meant to hold no secret; this is for when it does anyway.
func masked(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		c.Content[i] = masked(ch)
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(c.Content); i += 2 {
			if v := c.Content[i+1]; c.Content[i].Value == "dsn" && v.Kind == yaml.ScalarNode {
				v.Value = reconcile.RedactSource(v.Value)
			}
		}
	}
	if c.Kind == yaml.ScalarNode && credentials.LooksSecret(c.Value) {
		c.Value, c.Tag, c.Style = fmt.Sprintf("(a value of %d characters, not shown: it holds a private key)", len(n.Value)), "!!str", 0
	}
	if n.Alias != nil {
		c.Alias = masked(n.Alias)
	}
	return &c
}

// maskedValue is one scalar as config get prints it: masked as masked does, knowing its key.
func maskedValue(key, value string) string {
	if key == "dsn" {
		value = reconcile.RedactSource(value)
	}
	if credentials.LooksSecret(value) {
		return fmt.Sprintf("(a value of %d characters, not shown: it holds a private key)", len(value))
	}
	return value
}
