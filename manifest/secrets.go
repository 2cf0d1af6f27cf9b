package manifest

import (
	"time"

	"go.yaml.in/yaml/v3"
)

var secretKeys = []string{
	"from", "env", "prefix", "as", "optional", "recursive", "refresh",
}

func (c *collector) secrets(m *Manifest, top map[string]field) {
	f, ok := top["secrets"]
	if !ok {
		return
	}
	if f.val.Kind != yaml.SequenceNode {
		c.at(f.val, "secrets", "want a list of secrets, got %s", kindName(f.val))
		return
	}
	names := make(map[string]Secret)
	as := make(map[string]Secret)
	for i, item := range f.val.Content {
		item = resolve(item)
		s, ok := c.secret(item, index("secrets", i), m.Defaults.Refresh)
		if !ok {
			continue
		}
		s.Index, s.Line, s.Col = i, item.Line, item.Column
		c.uniqueNames(s, item, names)
		c.uniqueAs(s, item, as)
		m.Secrets = append(m.Secrets, s)
	}
}

// secret reads one entry; refresh is what defaults.refresh says.
func (c *collector) secret(n *yaml.Node, path string, refresh time.Duration) (Secret, bool) {
	s := Secret{Refresh: refresh}
	fs := c.mapping(n, path, secretKeys...)
	if fs == nil {
		return s, false
	}
	before := len(c.errs)
	from, hasFrom := fs["from"]
	if !hasFrom {
		c.at(n, path+".from", "is required: the reference to fetch, such as aws-sm://name")
		return s, false
	}
	s.From, _ = c.refFrom(from)
	if s.From.IsPath() && s.From.Key != "" {
		c.at(from.val, from.path, "#%s does not apply to a path, which holds many "+
			"values; use env as a mapping of NAME: relative/name", s.From.Key)
	}
	c.outputs(&s, fs, n, path)
	if v, ok := fs["optional"]; ok {
		s.Optional, _ = c.boolean(v)
	}
	if v, ok := fs["recursive"]; ok {
		s.From.Recursive, _ = c.boolean(v)
		if s.From.Raw != "" && !s.From.IsPath() { // a bad from is reported already
			c.at(v.key, v.path, "applies only to an ssm:// path, which ends in /")
		}
	}
	if v, ok := fs["refresh"]; ok {
		s.Refresh, _ = c.duration(v)
	}
	return s, len(c.errs) == before
}

// outputs reads env, prefix and as, and checks that they fit together and
// fit the reference.
func (c *collector) outputs(s *Secret, fs map[string]field, n *yaml.Node, path string) {
	env, hasEnv := fs["env"]
	prefix, hasPrefix := fs["prefix"]
	as, hasAs := fs["as"]
	if hasAs {
		if v, ok := c.nonEmpty(as); ok && c.name(as, as.val, v) {
			s.As = v
		}
	}
	switch {
	case hasEnv && hasPrefix:
		c.at(prefix.key, prefix.path, "cannot be used with env; use env to pick "+
			"names, or prefix to take every field")
	case hasEnv:
		c.env(s, env)
	case hasPrefix:
		s.Expand = true
		s.Prefix, _ = c.str(prefix)
		if s.Prefix != "" {
			c.name(prefix, prefix.val, s.Prefix)
		}
	case !hasAs:
		c.at(n, path, "needs env, prefix or as: say where the secret goes")
	}
}

func (c *collector) env(s *Secret, f field) {
	switch f.val.Kind {
	case yaml.ScalarNode:
		name, ok := c.nonEmpty(f)
		if ok && c.name(f, f.val, name) {
			s.Env = name
		}
		if s.From.IsPath() {
			c.at(f.val, f.path, "%s is a path and yields many values; "+
				"use prefix, or env as a mapping of NAME: key", s.From.Raw)
		}
	case yaml.MappingNode:
		c.envMap(s, f)
	default:
		c.at(f.val, f.path, "want a variable name, or a mapping of NAME: key; got %s",
			kindName(f.val))
	}
}

func (c *collector) envMap(s *Secret, f field) {
	pairs := c.pairs(f.val, f.path)
	if len(pairs) == 0 {
		c.at(f.val, f.path, "must name at least one variable")
	}
	seen := make(map[string]bool)
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		sub := field{key: k, val: v, path: join(f.path, k.Value)}
		if seen[k.Value] {
			c.at(k, sub.path, "given twice")
			continue
		}
		seen[k.Value] = true
		key, ok := c.nonEmpty(sub)
		if !c.name(sub, k, k.Value) || !ok {
			continue
		}
		s.EnvMap = append(s.EnvMap, EnvPair{Name: k.Value, Key: key})
	}
}

// uniqueNames records the names an entry gives explicitly and reports a
// name that an earlier entry already gave. Names made by prefix
// expansion are known only after fetching and are checked then.
func (c *collector) uniqueNames(s Secret, n *yaml.Node, seen map[string]Secret) {
	names := make([]string, 0, len(s.EnvMap)+1)
	if s.Env != "" {
		names = append(names, s.Env)
	}
	for _, p := range s.EnvMap {
		names = append(names, p.Name)
	}
	for _, name := range names {
		if first, dup := seen[name]; dup {
			c.at(n, index("secrets", s.Index), "variable %s is also set by secrets[%d] "+
				"at line %d; each variable may come from one entry only",
				name, first.Index, first.Line)
			continue
		}
		seen[name] = s
	}
}

// uniqueAs reports an as name that an earlier entry already took, since a
// template could not tell the two apart.
func (c *collector) uniqueAs(s Secret, n *yaml.Node, seen map[string]Secret) {
	if s.As == "" {
		return
	}
	if first, dup := seen[s.As]; dup {
		c.at(n, index("secrets", s.Index), "as %s is also used by secrets[%d] at line %d; "+
			"each as name may belong to one entry only", s.As, first.Index, first.Line)
		return
	}
	seen[s.As] = s
}
