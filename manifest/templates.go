package manifest

import (
	"io/fs"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is one entry of the templates list: a Go text/template
// rendered from the secrets into a file.
type Template struct {
	Index, Line, Col int
	Source           string      // template file, made absolute; "" when Contents is used
	Contents         string      // inline template text
	Destination      string      // made absolute
	Mode             fs.FileMode // 0: keep an existing file's mode; 0600 for a new one
	UID, GID         int         // -1: keep an existing file's owner
	OnChange         Action      // what a changed rendering does to the child
	MissingKey       string      // "error" (default) or "empty"
	CreateDirs       bool        // create missing parent directories, 0700
	RemoveOnExit     bool        // delete the file when the child exits
}

// Name is how messages name the template: its source file, or its place
// in the manifest for inline contents.
func (t Template) Name() string {
	if t.Source != "" {
		return t.Source
	}
	return index("templates", t.Index)
}

var templateKeys = []string{
	"source", "contents", "destination", "mode", "owner", "group", "on_change",
	"missing_key", "create_dirs", "remove_on_exit",
}

func (c *collector) templates(m *Manifest, top map[string]field) {
	f, ok := top["templates"]
	if !ok {
		return
	}
	if f.val.Kind != yaml.SequenceNode {
		c.at(f.val, "templates", "want a list of templates, got %s", kindName(f.val))
		return
	}
	dests := make(map[string]Template)
	for i, item := range f.val.Content {
		item = resolve(item)
		t, ok := c.template(m, item, index("templates", i))
		if !ok {
			continue
		}
		t.Index, t.Line, t.Col = i, item.Line, item.Column
		if first, dup := dests[t.Destination]; dup {
			c.at(item, index("templates", i), "destination %s is also written by "+
				"templates[%d] at line %d", t.Destination, first.Index, first.Line)
			continue
		}
		dests[t.Destination] = t
		m.Templates = append(m.Templates, t)
	}
}

func (c *collector) template(m *Manifest, n *yaml.Node, path string) (Template, bool) {
	t := Template{UID: -1, GID: -1, OnChange: m.Defaults.OnChange, MissingKey: "error"}
	fs := c.mapping(n, path, templateKeys...)
	if fs == nil {
		return t, false
	}
	before := len(c.errs)
	c.templateText(&t, m, fs, n, path)
	if v, ok := fs["destination"]; ok {
		if d, ok := c.nonEmpty(v); ok {
			t.Destination = absolute(m.File, d)
		}
	} else {
		c.at(n, path+".destination", "is required: the file to write")
	}
	c.fileOptions(&t, fs)
	return t, len(c.errs) == before
}

// templateText reads source or contents, exactly one of them.
func (c *collector) templateText(t *Template, m *Manifest, fs map[string]field,
	n *yaml.Node, path string) {
	src, hasSrc := fs["source"]
	contents, hasContents := fs["contents"]
	switch {
	case hasSrc && hasContents:
		c.at(contents.key, contents.path, "cannot be used with source; give one of them")
	case hasSrc:
		if s, ok := c.nonEmpty(src); ok {
			t.Source = absolute(m.File, s)
		}
	case hasContents:
		t.Contents, _ = c.str(contents)
	default:
		c.at(n, path, "needs source (a template file) or contents (the template itself)")
	}
}

func (c *collector) fileOptions(t *Template, fs map[string]field) {
	if v, ok := fs["mode"]; ok {
		t.Mode, _ = c.mode(v)
	}
	if v, ok := fs["owner"]; ok {
		t.UID, _ = c.id(v, lookupUser)
	}
	if v, ok := fs["group"]; ok {
		t.GID, _ = c.id(v, lookupGroup)
	}
	if v, ok := fs["on_change"]; ok {
		t.OnChange, _ = c.action(v)
	}
	if v, ok := fs["missing_key"]; ok {
		t.MissingKey, _ = c.enum(v, "error", "empty")
	}
	if v, ok := fs["create_dirs"]; ok {
		t.CreateDirs, _ = c.boolean(v)
	}
	if v, ok := fs["remove_on_exit"]; ok {
		t.RemoveOnExit, _ = c.boolean(v)
	}
}

// mode reads an octal permission such as "0640", 0640 or "0o640". YAML
// would read an unquoted 0640 as a number; the text is what counts here.
func (c *collector) mode(f field) (fs.FileMode, bool) {
	s, ok := c.str(f)
	if !ok {
		return 0, false
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	m, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || m == 0 || m > 0o777 {
		c.at(f.val, f.path, "want an octal file mode from 0001 to 0777, such as \"0640\"; got %q", s)
		return 0, false
	}
	return fs.FileMode(m), true
}

// id reads an owner or group, by name or by number.
func (c *collector) id(f field, lookup func(string) (string, error)) (int, bool) {
	s, ok := c.nonEmpty(f)
	if !ok {
		return -1, false
	}
	num := s
	if _, err := strconv.Atoi(s); err != nil {
		if num, err = lookup(s); err != nil {
			c.at(f.val, f.path, "no such %s on this machine: %q", f.key.Value, s)
			return -1, false
		}
	}
	id, err := strconv.Atoi(num)
	if err != nil || id < 0 {
		c.at(f.val, f.path, "want a name or a number from 0 up, got %q", s)
		return -1, false
	}
	return id, true
}

func lookupUser(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", err
	}
	return u.Uid, nil
}

func lookupGroup(name string) (string, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return "", err
	}
	return g.Gid, nil
}

// absolute resolves a path in the manifest against the manifest's own
// directory, so that a manifest means the same wherever it is run from.
func absolute(manifestFile, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	dir, err := filepath.Abs(filepath.Dir(manifestFile))
	if err != nil {
		return filepath.Join(filepath.Dir(manifestFile), p)
	}
	return filepath.Join(dir, p)
}

// templateNames checks that the names templates use for secrets are
// unambiguous: an as-name must not also be a variable name.
func (c *collector) templateNames(m *Manifest, root *yaml.Node) {
	if len(m.Templates) == 0 {
		return
	}
	vars := make(map[string]Secret)
	for _, s := range m.Secrets {
		if s.Env != "" {
			vars[s.Env] = s
		}
		for _, p := range s.EnvMap {
			vars[p.Name] = s
		}
	}
	for _, s := range m.Secrets {
		if other, clash := vars[s.As]; clash && s.As != "" && other.Index != s.Index {
			c.at(root, index("secrets", s.Index)+".as", "%s is also a variable of "+
				"secrets[%d]; templates could not tell them apart", s.As, other.Index)
		}
	}
}
