package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/waasctl/waasctl/internal/textsafe"
	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with the config file, where it is.
type Problem struct {
	Line, Column int    // 1-based; 0 when not known
	Profile      string // the profile it is in, "" for the top level
	Key          string // the setting, as config get names it: profiles.prod.sinks[0].path
	Message      string
}

func (p Problem) String() string {
	where := ""
	switch {
	case p.Line > 0 && p.Column > 0:
		where = fmt.Sprintf("line %d, column %d: ", p.Line, p.Column)
	case p.Line > 0:
		where = fmt.Sprintf("line %d: ", p.Line)
	}
	if p.Key != "" {
		return where + p.Key + ": " + p.Message
	}
	return where + p.Message
}

// Issuer and sink types, as the rotation engine knows them.
var (
	IssuerTypes = []string{"sandbox", "manual", "exec"}
	SinkTypes   = []string{"envfile", "exec"}
)

// Check reads data as the config file and returns every problem it finds, not just the first
// as Parse does: YAML syntax (with the line where the file stops parsing), unknown keys and
// values of the wrong type (with line and column), and settings that cannot work (an issuer or
// sink type waasctl does not know, an exec issuer without its command, a policy duration that
// does not parse, an endpoint that is not a URL). What is on disk and on PATH is not looked
// at; `waasctl config validate` does that.
func Check(data []byte) []Problem {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := describeYAMLError(err)
		var te *yaml.TypeError
		n, _ := strconv.Atoi(line)
		if !errors.As(err, &te) {
			if l := syntaxErrorLine(data); l > 0 {
				n = l
			}
		}
		return []Problem{{Line: n, Message: "YAML syntax: " + msg}}
	}
	root := docRoot(&doc)
	if root == nil || isNull(root) {
		return nil
	}
	c := &checker{}
	c.walk(root, reflect.TypeFor[Config](), nil)
	if len(c.problems) == 0 {
		// What the type walk cannot see (it follows the decoder closely, but the loader is
		// the judge): anything the decoder still refuses.
		if _, err := Parse("", data); err != nil {
			c.problems = append(c.problems, Problem{Message: strings.TrimPrefix(err.Error(), ":")})
		}
	}
	if len(c.problems) == 0 {
		if cfg, err := Parse("", data); err == nil {
			c.semantics(root, cfg)
		}
	}
	return c.problems
}

type checker struct{ problems []Problem }

// profileNameRE is credentials.CheckProfile's rule (that package imports this one).
var profileNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (c *checker) add(n *yaml.Node, p KeyPath, format string, args ...any) {
	prof := ""
	if len(p) >= 2 && p[0].Key == "profiles" {
		prof = p[1].Key
	}
	pr := Problem{Profile: prof, Key: p.String(), Message: fmt.Sprintf(format, args...)}
	if n != nil {
		pr.Line, pr.Column = n.Line, n.Column
	}
	c.problems = append(c.problems, pr)
}

// walk checks node n against the Go type t it decodes into.
func (c *checker) walk(n *yaml.Node, t reflect.Type, p KeyPath) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if isNull(n) && n.Kind == yaml.ScalarNode {
		return // an empty setting decodes to its zero value
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.add(n, p, "want settings under it (key: value), not %s", describeNode(n))
			return
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := append(slices.Clone(p), PathElem{Key: k.Value})
			f, ok := fieldByYAMLKey(t, k.Value)
			if !ok {
				c.add(k, kp, "unknown key %s; known here: %s", textsafe.Value(k.Value), strings.Join(yamlKeys(t), ", "))
				continue
			}
			if seen[k.Value] {
				c.add(k, kp, "set twice")
			}
			seen[k.Value] = true
			c.walk(v, f.Type, kp)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.add(n, p, "want settings under it (name: ...), not %s", describeNode(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := append(slices.Clone(p), PathElem{Key: k.Value})
			if len(p) == 1 && p[0].Key == "profiles" && !profileNameRE.MatchString(k.Value) {
				c.add(k, kp, "invalid profile name %s: use up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit", textsafe.Value(k.Value))
			}
			c.walk(v, t.Elem(), kp)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.add(n, p, "want a list ([a, b] or - items), not %s", describeNode(n))
			return
		}
		for i, item := range n.Content {
			c.walk(item, t.Elem(), append(slices.Clone(p), PathElem{IsItem: true, Index: i}))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.add(n, p, "want a single value, not %s", describeNode(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!bool" && n.ShortTag() != "!!bool") {
			c.add(n, p, "want true or false, not %s", describeNode(n))
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			c.add(n, p, "want a whole number, not %s", describeNode(n))
		} else if v, err := strconv.Atoi(n.Value); err != nil || v < 0 {
			c.add(n, p, "want a whole number, 0 or more")
		}
	}
}

// describeNode says what kind of value n is, never what it holds: a value in the wrong place
// may be a secret.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "settings (a mapping)"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "true/false"
	}
	return "text " + textsafe.Value(n.Value)
}

// semantics checks what the types cannot say. Positions come from the node tree.
func (c *checker) semantics(root *yaml.Node, cfg *Config) {
	names := make([]string, 0, len(cfg.Profiles))
	for name := range cfg.Profiles {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		prof := cfg.Profiles[name]
		base := KeyPath{{Key: "profiles"}, {Key: name}}
		at := func(rest ...PathElem) (*yaml.Node, KeyPath) {
			p := append(slices.Clone(base), rest...)
			return Lookup(root, p), p
		}
		if prof.Endpoint != "" {
			if u, err := url.Parse(prof.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				n, p := at(PathElem{Key: "endpoint"})
				c.add(n, p, "want an http(s):// URL, e.g. https://api.developer.coinbase.com")
			}
		}
		if is := prof.Issuer; is != nil {
			n, p := at(PathElem{Key: "issuer"}, PathElem{Key: "type"})
			switch {
			case is.Type == "":
				n, p = at(PathElem{Key: "issuer"})
				c.add(n, p, "no type: want one of %s", strings.Join(IssuerTypes, ", "))
			case !slices.Contains(IssuerTypes, is.Type):
				c.add(n, p, "type %s: want one of %s", textsafe.Value(is.Type), strings.Join(IssuerTypes, ", "))
			case is.Type == "exec" && len(is.Command) == 0:
				n, p = at(PathElem{Key: "issuer"})
				c.add(n, p, "an exec issuer needs its command: waasctl config set %s.command PROGRAM [ARG...]", p)
			case is.Type != "exec" && len(is.Command) > 0:
				n, p = at(PathElem{Key: "issuer"}, PathElem{Key: "command"})
				c.add(n, p, "only an exec issuer runs a command; this one is %s", is.Type)
			}
		}
		for i, s := range prof.Sinks {
			sn, sp := at(PathElem{Key: "sinks"}, PathElem{IsItem: true, Index: i})
			switch s.Type {
			case "":
				c.add(sn, sp, "no type: want one of %s", strings.Join(SinkTypes, ", "))
			case "envfile":
				if s.Path == "" {
					c.add(sn, sp, "an envfile sink needs its path: waasctl config set %s.path FILE", sp)
				}
				if len(s.Command) > 0 {
					c.add(sn, sp, "an envfile sink runs no command (restart is the command run after writing)")
				}
			case "exec":
				if len(s.Command) == 0 {
					c.add(sn, sp, "an exec sink needs its command: waasctl config set %s.command PROGRAM [ARG...]", sp)
				}
				if s.Path != "" || s.FollowSymlinks || s.AllowOtherOwner {
					c.add(sn, sp, "path, follow_symlinks and allow_other_owner are settings of an envfile sink, not of an exec one")
				}
			default:
				n, p := at(PathElem{Key: "sinks"}, PathElem{IsItem: true, Index: i}, PathElem{Key: "type"})
				c.add(n, p, "type %s: want one of %s", textsafe.Value(s.Type), strings.Join(SinkTypes, ", "))
			}
		}
		if pol := prof.Policy; pol != nil {
			for key, v := range map[string]string{"max_age": pol.MaxAge, "grace": pol.Grace} {
				if v == "" || (key == "grace" && isZeroGrace(v)) {
					continue
				}
				if _, err := ParseAge(v); err != nil {
					n, p := at(PathElem{Key: "policy"}, PathElem{Key: key})
					c.add(n, p, "%v", err)
				}
			}
		}
	}
	// The state section (top level, and per profile): as the commands read it.
	noEnv := func(string) string { return "" }
	if _, err := cfg.StateBackend("", noEnv); err != nil {
		p := KeyPath{{Key: "state"}}
		c.add(Lookup(root, p), p, "%s", stateMessage(err, cfg.Path))
	}
	for _, name := range names {
		if cfg.Profiles[name].State == nil {
			continue
		}
		if _, err := cfg.StateBackend(name, noEnv); err != nil {
			p := KeyPath{{Key: "profiles"}, {Key: name}, {Key: "state"}}
			c.add(Lookup(root, p), p, "%s", stateMessage(err, cfg.Path))
		}
	}
	// The pinned team recipients: each an age public key, no key twice (team mode refuses to
	// run on such pins, so say where they are wrong before).
	checkPins := func(st *State, base KeyPath) {
		if st == nil {
			return
		}
		seen := map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(st.Recipients)) {
			p := append(slices.Clone(base), PathElem{Key: "recipients"}, PathElem{Key: name})
			r, err := age.ParseX25519Recipient(strings.TrimSpace(st.Recipients[name]))
			if err != nil {
				c.add(Lookup(root, p), p, "not an age public key: want the age1... that the member's 'waasctl team identity new' printed")
				continue
			}
			if other, ok := seen[r.String()]; ok {
				c.add(Lookup(root, p), p, "the same key as %s: pin each member once", other)
			}
			seen[r.String()] = name
		}
	}
	checkPins(cfg.State, KeyPath{{Key: "state"}})
	for _, name := range names {
		checkPins(cfg.Profiles[name].State, KeyPath{{Key: "profiles"}, {Key: name}, {Key: "state"}})
	}
	slices.SortStableFunc(c.problems, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}

// isZeroGrace is a grace of nothing, in any unit, as keys rotate reads it.
func isZeroGrace(v string) bool {
	if d, err := time.ParseDuration(v); err == nil && d == 0 {
		return true
	}
	return v == "0" || v == "0d"
}

// stateMessage is StateBackend's error without the file name it starts with (the problem's
// position says where).
func stateMessage(err error, path string) string {
	return strings.TrimPrefix(err.Error(), path+": ")
}
