package manifest

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// field is one key of a YAML mapping, with the node that holds its value.
type field struct {
	key  *yaml.Node
	val  *yaml.Node
	path string
}

// mapping checks that n is a mapping whose keys are all in allowed, each
// at most once, and returns its fields by key. On a problem it records an
// error and returns nil.
func (c *collector) mapping(n *yaml.Node, path string, allowed ...string) map[string]field {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		c.at(n, path, "want a mapping of %s, got %s", strings.Join(allowed, ", "), kindName(n))
		return nil
	}
	out := make(map[string]field, len(n.Content)/2)
	for _, kv := range c.pairs(n, path) {
		k, v := kv[0], kv[1]
		sub := join(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			c.at(k, path, "keys must be plain words")
		case !slices.Contains(allowed, k.Value):
			c.at(k, sub, "unknown key; allowed here: %s", strings.Join(allowed, ", "))
		case out[k.Value].key != nil:
			c.at(k, sub, "given twice (first at line %d)", out[k.Value].key.Line)
		default:
			out[k.Value] = field{key: k, val: v, path: sub}
		}
	}
	return out
}

// pairs returns the keys and values of mapping n, aliases resolved, with
// YAML merge keys (`<<: *anchor`) applied: n's own keys first, then each
// merged key that n and earlier merges do not already give.
func (c *collector) pairs(n *yaml.Node, path string) [][2]*yaml.Node {
	var own, merges [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		kv := [2]*yaml.Node{resolve(n.Content[i]), resolve(n.Content[i+1])}
		if kv[0].Kind == yaml.ScalarNode && kv[0].Tag == "!!merge" {
			merges = append(merges, kv)
		} else {
			own = append(own, kv)
		}
	}
	if len(merges) == 0 {
		return own
	}
	have := make(map[string]bool, len(own))
	for _, kv := range own {
		have[kv[0].Value] = true
	}
	if c.merging == nil {
		c.merging = make(map[*yaml.Node]bool)
	}
	c.merging[n] = true
	defer delete(c.merging, n)
	out := own
	for _, m := range merges {
		for _, kv := range c.merged(m[0], m[1], join(path, "<<")) {
			if !have[kv[0].Value] {
				have[kv[0].Value] = true
				out = append(out, kv)
			}
		}
	}
	return out
}

// merged returns the pairs a merge key brings in: those of one mapping or
// of a list of mappings, earlier ones first.
func (c *collector) merged(key, v *yaml.Node, path string) [][2]*yaml.Node {
	maps := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		maps = v.Content
	}
	var out [][2]*yaml.Node
	for _, m := range maps {
		m = resolve(m)
		if m.Kind != yaml.MappingNode {
			c.at(m, path, "want a mapping or a list of mappings to merge, got %s",
				kindName(m))
			continue
		}
		if c.merging[m] {
			c.at(key, path, "merges a mapping into itself")
			continue
		}
		out = append(out, c.pairs(m, path)...)
	}
	return out
}

// str returns a scalar as written: YAML's `true`, `3` and `0x10` stay the
// text they were, because the environment holds only strings. A null is
// an error.
func (c *collector) str(f field) (string, bool) {
	n := f.val
	if n.Kind != yaml.ScalarNode {
		c.at(n, f.path, "want a string, got %s", kindName(n))
		return "", false
	}
	if n.Tag == "!!null" {
		c.at(n, f.path, "is empty (null); give a value or remove the key")
		return "", false
	}
	return n.Value, true
}

// nonEmpty is str that also refuses "".
func (c *collector) nonEmpty(f field) (string, bool) {
	s, ok := c.str(f)
	if ok && s == "" {
		c.at(f.val, f.path, "must not be empty")
		return "", false
	}
	return s, ok
}

func (c *collector) boolean(f field) (bool, bool) {
	s, ok := c.str(f)
	if !ok {
		return false, false
	}
	switch s {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	c.at(f.val, f.path, "want true or false, got %q", s)
	return false, false
}

func (c *collector) duration(f field) (time.Duration, bool) {
	s, ok := c.str(f)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		c.at(f.val, f.path, "want a duration such as 30s, 5m or 1h30m, got %q", s)
		return 0, false
	}
	return d, true
}

func (c *collector) integer(f field) (int, bool) {
	s, ok := c.str(f)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		c.at(f.val, f.path, "want a whole number, got %q", s)
		return 0, false
	}
	return i, true
}

// enum returns s if it is one of allowed, naming them all if not.
func (c *collector) enum(f field, allowed ...string) (string, bool) {
	s, ok := c.str(f)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, s) {
		c.at(f.val, f.path, "%q is not allowed; use one of: %s", s, strings.Join(allowed, ", "))
		return "", false
	}
	return s, true
}

// strings reads a sequence of strings.
func (c *collector) strings(f field) ([]string, bool) {
	n := f.val
	if n.Kind != yaml.SequenceNode {
		c.at(n, f.path, "want a list, got %s", kindName(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, item := range n.Content {
		s, good := c.nonEmpty(field{val: resolve(item), path: index(f.path, i)})
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing (null)"
		}
		return "a single value"
	}
	return "an unknown node"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
