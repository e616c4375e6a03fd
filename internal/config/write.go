package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/waasctl/waasctl/internal/fsutil"
	"gopkg.in/yaml.v3"
)

// SetProfileEndpoint records endpoint for profile in the config file at
// path, creating the file (0600, in a 0700 folder) if needed. The rest of
// the file, comments included, is kept as it was: the change is made on
// the YAML node tree, not by re-encoding the parsed config. An empty
// endpoint removes the setting.
func SetProfileEndpoint(path, profile, endpoint string) error {
	p := KeyPath{{Key: "profiles"}, {Key: profile}, {Key: "endpoint"}}
	return EditFile(path, func(doc *yaml.Node) error {
		if endpoint == "" {
			_, err := Unset(doc, p)
			return err
		}
		return Set(doc, p, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: endpoint})
	})
}

// ReadDocument reads the config file at path as a YAML node tree, comments and all. A missing
// file is an empty document.
func ReadDocument(ctx context.Context, path string) (*yaml.Node, []byte, error) {
	var doc yaml.Node
	data, err := readConfig(ctx, path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &doc, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// Parse says it in one line, with the line number.
		if _, perr := Parse(path, data); perr != nil {
			return nil, nil, perr
		}
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	// The node tree keeps aliases as references; whoever walks it (config view masking values,
	// config get) expands them. Decoding the values once applies yaml's limit on alias
	// expansion, so that a few hundred bytes of nested aliases (a "billion laughs") are refused
	// here instead of filling memory there.
	var values any
	if err := yaml.Unmarshal(data, &values); err != nil {
		return nil, nil, fmt.Errorf("%s: %w: rewrite it without nested aliases", path, err)
	}
	if doc.Kind == 0 && len(bytes.TrimSpace(data)) > 0 {
		// Only comments: yaml.v3 gives no document to hang them on, so keep them as the head
		// of the one set will create.
		doc = yaml.Node{Kind: yaml.DocumentNode, HeadComment: string(bytes.TrimSpace(data))}
	}
	return &doc, data, nil
}

// EditFile changes the config file at path through edit, which works on the YAML node tree:
// comments, key order and layout of everything it does not touch are kept. The result must
// load as the loader reads it (Parse), else nothing is written and the loader's error is
// returned. The file is replaced atomically, mode 0600, its folder created 0700 if need be; a
// config that is a symlink (a dotfile manager's) stays one, and the file it points to is
// replaced. A file that does not parse as YAML is never rewritten.
func EditFile(path string, edit func(doc *yaml.Node) error) error {
	return editFile(path, nil, edit)
}

// SetFile is EditFile for an edit that sets key: the result is also refused when Check finds a
// new problem in key or inside it (config set).
func SetFile(path string, key KeyPath, edit func(doc *yaml.Node) error) error {
	return editFile(path, &key, edit)
}

func editFile(path string, checkKey *KeyPath, edit func(doc *yaml.Node) error) error {
	target := path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		target = real
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, err := os.Lstat(filepath.Dir(target)); errors.Is(err, fs.ErrNotExist) {
		if err := fsutil.MkdirPrivate(filepath.Dir(target)); err != nil {
			return err
		}
	}
	// Read, edit and write under a lock beside the file: two `config set` run at once (two
	// shells, a script's loop) would otherwise both read the old file, and the second write
	// would undo the first.
	unlock, err := fsutil.Lock(editLockPath(target), true, editLockTimeout)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer unlock()
	doc, before, err := ReadDocument(context.Background(), path)
	if err != nil {
		return err
	}
	if err := edit(doc); err != nil {
		return err
	}
	out, err := Encode(doc)
	if err != nil {
		return err
	}
	if _, err := Parse(path, out); err != nil {
		return fmt.Errorf("not written: the result would not load: %w", err)
	}
	if checkKey != nil {
		// A value the loader reads but no command can use (a grace of "forever", an issuer
		// type waasctl does not know) is refused too, as config validate would report it.
		// Only problems of the key set (or inside it): a setup made one key at a time passes
		// through states that are not whole yet (an exec issuer before its command).
		if p := newProblems(before, out, checkKey.String()); len(p) > 0 {
			more := ""
			if len(p) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(p)-1)
			}
			return fmt.Errorf("not written: %s%s; the file is unchanged", p[0], more)
		}
	}
	return fsutil.WriteFile(target, out, 0o600)
}

// editLockTimeout bounds the wait for another edit, which takes milliseconds.
const editLockTimeout = 10 * time.Second

// editLockPath is the lock file of the config file at target: hidden, beside it, kept (an OS
// lock on a file that stays; removing it would let a third edit lock a new file while the
// second holds the old one).
func editLockPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".lock")
}

// Encode writes doc as the config file holds it: two-space indents, like the examples in
// docs/configuration.md.
func Encode(doc *yaml.Node) ([]byte, error) {
	if doc.Kind == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// newProblems is what Check finds in after and not in before (compared by key and message:
// an edit moves lines) in key or inside it, or in the name of the profile key is in.
func newProblems(before, after []byte, key string) []Problem {
	had := map[string]bool{}
	for _, p := range Check(before) {
		had[p.Key+"\x00"+p.Message] = true
	}
	profile := ""
	if rest, ok := strings.CutPrefix(key, "profiles."); ok {
		name, _, _ := strings.Cut(rest, ".")
		name, _, _ = strings.Cut(name, "[")
		profile = "profiles." + name
	}
	var out []Problem
	for _, p := range Check(after) {
		mine := p.Key == key || strings.HasPrefix(p.Key, key+".") || strings.HasPrefix(p.Key, key+"[") ||
			(profile != "" && p.Key == profile)
		if mine && !had[p.Key+"\x00"+p.Message] {
			p.Line, p.Column = 0, 0 // the result's lines, not the file's
			out = append(out, p)
		}
	}
	return out
}
