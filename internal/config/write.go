package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/waasctl/waasctl/internal/fsutil"
	"gopkg.in/yaml.v3"
)

// SetProfileEndpoint records endpoint for profile in the config file at
// path, creating the file (0600, in a 0700 folder) if needed. The rest of
// the file, comments included, is kept as it was: the change is made on
// the YAML node tree, not by re-encoding the parsed config. An empty
// endpoint removes the setting.
func SetProfileEndpoint(path, profile, endpoint string) error {
	var doc yaml.Node
	data, err := readConfig(context.Background(), path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading %s: %w", path, err)
	default:
		if _, err := Parse(path, data); err != nil {
			return err // a one-line error naming the line; never rewrite a file we cannot read
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: the top level must be a mapping with a profiles key", path)
	}
	profiles := mappingChild(root, "profiles")
	prof := mappingChild(profiles, profile)
	if endpoint == "" {
		deleteKey(prof, "endpoint")
	} else {
		setScalar(prof, "endpoint", endpoint)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	if err := fsutil.MkdirPrivate(filepath.Dir(path)); err != nil {
		return err
	}
	return fsutil.WriteFile(path, buf.Bytes(), 0o600)
}

// mappingChild returns the mapping under key in m, creating it if absent.
func mappingChild(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind != yaml.MappingNode { // "profiles:" with nothing under it is a null scalar
				*v = yaml.Node{Kind: yaml.MappingNode}
			}
			return v
		}
	}
	v := &yaml.Node{Kind: yaml.MappingNode}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	return v
}

func setScalar(m *yaml.Node, key, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: value}
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
