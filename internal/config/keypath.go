package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/waasctl/waasctl/internal/textsafe"
	"gopkg.in/yaml.v3"
)

// A KeyPath names one setting in the config file, as `waasctl config get` and `set` take it:
// mapping keys joined by dots, list items by index, e.g. profiles.prod.issuer.command or
// profiles.prod.sinks[0].path. A key that holds a dot (a profile named "eu.prod") goes in
// brackets: profiles[eu.prod].endpoint. An index may also be written as a dotted number
// (sinks.0.path), and [+] names the item one past the end of a list, so that set appends.
type KeyPath []PathElem

// PathElem is one step of a KeyPath: a mapping key, or a list index (Append: one past the end).
type PathElem struct {
	Key    string
	Index  int
	IsItem bool // a list index (Index), not a mapping key
	Append bool // [+]: the item after the last
}

func (e PathElem) String() string {
	switch {
	case e.Append:
		return "[+]"
	case e.IsItem:
		return "[" + strconv.Itoa(e.Index) + "]"
	case strings.ContainsAny(e.Key, ".[]"):
		return "[" + e.Key + "]"
	}
	return e.Key
}

func (p KeyPath) String() string {
	var b strings.Builder
	for i, e := range p {
		if i > 0 && !e.IsItem && !strings.HasPrefix(e.String(), "[") {
			b.WriteByte('.')
		}
		b.WriteString(e.String())
	}
	return b.String()
}

// maxKeyPath bounds a key path: the deepest setting is five steps down.
const maxKeyPath = 256

// ParseKeyPath parses a KeyPath. A dotted number is an index; in brackets, a number is an
// index, + is one past the end, and anything else is a key taken as written.
func ParseKeyPath(s string) (KeyPath, error) {
	if s == "" {
		return nil, errors.New("empty key: name a setting, e.g. profiles.prod.endpoint")
	}
	if len(s) > maxKeyPath {
		return nil, fmt.Errorf("key %s is too long", textsafe.Value(s))
	}
	bad := func(why string) error {
		return fmt.Errorf("key %s: %s (want e.g. profiles.prod.sinks[0].path)", textsafe.Value(s), why)
	}
	var p KeyPath
	rest := s
	for rest != "" {
		switch {
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, bad("an unclosed [")
			}
			in := rest[1:end]
			switch n, err := strconv.Atoi(in); {
			case in == "+":
				p = append(p, PathElem{IsItem: true, Append: true})
			case err == nil && n >= 0:
				p = append(p, PathElem{IsItem: true, Index: n})
			case in == "" || strings.HasPrefix(in, "-"):
				return nil, bad("want an index, + or a key in brackets")
			default:
				p = append(p, PathElem{Key: in})
			}
			rest = rest[end+1:]
			if rest != "" && rest[0] != '.' && rest[0] != '[' {
				return nil, bad("want . or [ after ]")
			}
			rest = strings.TrimPrefix(rest, ".")
			if rest == "" && strings.HasSuffix(s, ".") {
				return nil, bad("a trailing dot")
			}
		default:
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			seg := rest[:end]
			if seg == "" {
				return nil, bad("an empty part")
			}
			if n, err := strconv.Atoi(seg); err == nil && n >= 0 && len(p) > 0 {
				p = append(p, PathElem{IsItem: true, Index: n})
			} else {
				p = append(p, PathElem{Key: seg})
			}
			rest = rest[end:]
			if strings.HasPrefix(rest, ".") {
				rest = rest[1:]
				if rest == "" {
					return nil, bad("a trailing dot")
				}
			}
		}
	}
	return p, nil
}

// Lookup returns the node p names in doc (a document or its root mapping), or nil when there is
// none. A dotted number on a mapping is taken as a key.
func Lookup(doc *yaml.Node, p KeyPath) *yaml.Node {
	n := docRoot(doc)
	for _, e := range p {
		if n == nil {
			return nil
		}
		n = child(n, e)
	}
	return n
}

func docRoot(doc *yaml.Node) *yaml.Node {
	if doc != nil && doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		return doc.Content[0]
	}
	return doc
}

func child(n *yaml.Node, e PathElem) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		key := e.Key
		if e.IsItem && !e.Append {
			key = strconv.Itoa(e.Index)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if e.IsItem && !e.Append && e.Index < len(n.Content) {
			return n.Content[e.Index]
		}
	case yaml.AliasNode:
		return child(n.Alias, e)
	}
	return nil
}

// Set puts value at p in doc, creating the mappings and list items on the way, and keeps every
// other node (and its comments) as it was. An index one past the end of a list, or [+], appends.
// doc may be an empty document.
func Set(doc *yaml.Node, p KeyPath, value *yaml.Node) error {
	if len(p) == 0 {
		return errors.New("empty key")
	}
	if doc.Kind == 0 {
		*doc = yaml.Node{Kind: yaml.DocumentNode}
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 0 {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode}}
	}
	n := docRoot(doc)
	if isNull(n) {
		*n = yaml.Node{Kind: yaml.MappingNode}
	}
	for i, e := range p {
		last := i == len(p)-1
		switch {
		case n.Kind == yaml.MappingNode && !e.IsItem:
			slot := mappingSlot(n, e.Key)
			if last {
				keepComments(value, *slot)
				*slot = value
				return nil
			}
			if isNull(*slot) {
				*slot = emptyContainer(p[i+1])
			}
			n = *slot
		case n.Kind == yaml.SequenceNode && e.IsItem:
			idx := e.Index
			if e.Append {
				idx = len(n.Content)
			}
			switch {
			case idx < len(n.Content):
			case idx == len(n.Content):
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"})
			default:
				return fmt.Errorf("%s: the list has %d items; the next one is [%d] (or [+])", KeyPath(p[:i+1]), len(n.Content), len(n.Content))
			}
			if last {
				keepComments(value, n.Content[idx])
				n.Content[idx] = value
				return nil
			}
			if isNull(n.Content[idx]) {
				n.Content[idx] = emptyContainer(p[i+1])
			}
			n = n.Content[idx]
		case n.Kind == yaml.SequenceNode:
			return fmt.Errorf("%s is a list: name an item, e.g. %s[0]", KeyPath(p[:i]), KeyPath(p[:i]))
		case e.IsItem:
			return fmt.Errorf("%s is not a list", KeyPath(p[:i]))
		default:
			return fmt.Errorf("%s holds a value, not settings under it", KeyPath(p[:i]))
		}
	}
	return nil
}

// Unset removes the setting p names from doc; it reports whether there was one.
func Unset(doc *yaml.Node, p KeyPath) (bool, error) {
	if len(p) == 0 {
		return false, errors.New("empty key")
	}
	parent := Lookup(doc, p[:len(p)-1])
	if parent == nil {
		return false, nil
	}
	e := p[len(p)-1]
	switch {
	case parent.Kind == yaml.MappingNode && !e.Append:
		key := e.Key
		if e.IsItem {
			key = strconv.Itoa(e.Index)
		}
		for i := 0; i+1 < len(parent.Content); i += 2 {
			if parent.Content[i].Value == key {
				parent.Content = append(parent.Content[:i], parent.Content[i+2:]...)
				return true, nil
			}
		}
	case parent.Kind == yaml.SequenceNode && e.IsItem && !e.Append:
		if e.Index < len(parent.Content) {
			parent.Content = append(parent.Content[:e.Index], parent.Content[e.Index+1:]...)
			return true, nil
		}
	}
	return false, nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || (n.Tag == "" && n.Value == "")))
}

// mappingSlot returns where key's value is held in m, adding key (with a null value) if absent.
func mappingSlot(m *yaml.Node, key string) **yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return &m.Content[i+1]
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"})
	return &m.Content[len(m.Content)-1]
}

// emptyContainer is what a missing step of a path becomes: a list before an index, else a
// mapping.
func emptyContainer(next PathElem) *yaml.Node {
	if next.IsItem {
		return &yaml.Node{Kind: yaml.SequenceNode}
	}
	return &yaml.Node{Kind: yaml.MappingNode}
}

// keepComments carries the comments of the node being replaced over to its replacement: a
// comment on a line is about the setting, not about its old value.
func keepComments(to, from *yaml.Node) {
	if from == nil {
		return
	}
	if to.HeadComment == "" {
		to.HeadComment = from.HeadComment
	}
	if to.LineComment == "" {
		to.LineComment = from.LineComment
	}
	if to.FootComment == "" {
		to.FootComment = from.FootComment
	}
}

// SettingType is the Go type of the setting p names, as config.Config declares it, and whether
// the schema knows it at all. Keys it does not know are still settable (the file is checked by
// the loader after every change), as plain values.
func SettingType(p KeyPath) (reflect.Type, bool) {
	t := reflect.TypeFor[Config]()
	for _, e := range p {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			if e.IsItem {
				return nil, false
			}
			f, ok := fieldByYAMLKey(t, e.Key)
			if !ok {
				return nil, false
			}
			t = f.Type
		case reflect.Map:
			if e.IsItem {
				return nil, false
			}
			t = t.Elem()
		case reflect.Slice:
			if !e.IsItem {
				return nil, false
			}
			t = t.Elem()
		default:
			return nil, false
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, true
}

// fieldByYAMLKey finds the field of struct type t that key decodes into.
func fieldByYAMLKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// yamlKeys lists the keys struct type t accepts, in declaration order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys = append(keys, name)
	}
	return keys
}

// ValueNode turns the words given to `config set` into the node for the setting p names, by
// the setting's type: a string as written; a number or true/false for the settings that are
// numbers or switches; for a command (a list of words), each word one item, or one YAML flow
// list ("[a, b]"); for a section or a list of sections, YAML flow ("{type: envfile, path: x}").
// A setting the schema does not know takes one word, or YAML flow when it starts with { or [.
func ValueNode(p KeyPath, words []string) (*yaml.Node, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("%s: give a value", p)
	}
	t, known := SettingType(p)
	if !known {
		if len(words) > 1 {
			return nil, fmt.Errorf("%s takes one value; quote a value with spaces", p)
		}
		if strings.HasPrefix(words[0], "{") || strings.HasPrefix(words[0], "[") {
			return flowNode(p, words[0])
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Value: words[0]}, nil
	}
	one := func() (string, error) {
		if len(words) > 1 {
			return "", fmt.Errorf("%s takes one value, not %d; quote a value with spaces", p, len(words))
		}
		return words[0], nil
	}
	switch t.Kind() {
	case reflect.String:
		v, err := one()
		if err != nil {
			return nil, err
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}, nil
	case reflect.Bool:
		v, err := one()
		if err != nil {
			return nil, err
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%s is true or false, not %s", p, textsafe.Value(v))
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}, nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		v, err := one()
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s is a whole number, 0 or more, not %s", p, textsafe.Value(v))
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(n)}, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			if len(words) == 1 && strings.HasPrefix(words[0], "[") {
				return flowNode(p, words[0])
			}
			seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, w := range words {
				seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: w})
			}
			return seq, nil
		}
	}
	v, err := one()
	if err != nil {
		return nil, err
	}
	return flowNode(p, v)
}

// flowNode parses one YAML value given on the command line.
func flowNode(p KeyPath, v string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(v), &doc); err != nil || len(doc.Content) != 1 {
		msg := "not one YAML value"
		if err != nil {
			_, msg = describeYAMLError(err)
		}
		return nil, fmt.Errorf("%s: the value is %s; write a section as {key: value, ...} and a list as [a, b]", p, msg)
	}
	n := doc.Content[0]
	clearPositions(n)
	blockSections(n)
	return n, nil
}

// blockSections lays out the sections of a value given in flow style ({type: envfile, ...}) as
// blocks, the way a config file is written by hand; lists of words (commands) stay [a, b].
func blockSections(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || (n.Kind == yaml.SequenceNode && slices.ContainsFunc(n.Content, func(c *yaml.Node) bool { return c.Kind != yaml.ScalarNode })) {
		n.Style &^= yaml.FlowStyle
	}
	for _, c := range n.Content {
		blockSections(c)
	}
}

// clearPositions forgets where a node parsed from the command line was, so that the encoder
// lays it out in the file's place rather than the argument's.
func clearPositions(n *yaml.Node) {
	n.Line, n.Column = 0, 0
	for _, c := range n.Content {
		clearPositions(c)
	}
}
