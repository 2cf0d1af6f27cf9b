// Package inject turns resolved secrets into the child's environment. It
// owns the rule that maps paths and JSON keys to variable names, the
// checks that every value can be an environment variable, and how
// secrets and the inherited environment are merged.
package inject

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
)

// MaxVarLen is the kernel's limit on one "NAME=value" string, counting its
// terminating NUL (MAX_ARG_STRLEN on Linux: 32 pages of 4 KiB).
const MaxVarLen = 32 * 4096

// Var is one variable that a secret provides.
type Var struct {
	Name  string
	Value secret.Value
	From  manifest.Secret // the entry that produced it
	Key   string          // the JSON key or relative path it came from, if any
}

// Vars returns the variables that the manifest's secrets give, in manifest
// order. Entries whose fetch failed must be left out of resolved; an
// optional entry with no result gives no variables, a required one is an
// error. Two entries giving one name is an error naming both.
func Vars(m *manifest.Manifest, resolved map[string]source.Secret) ([]Var, error) {
	var out []Var
	var errs []error
	owner := make(map[string]Var)
	for _, entry := range m.Secrets {
		sec, ok := resolved[entry.From.Target()]
		if !ok {
			if !entry.Optional {
				errs = append(errs, fmt.Errorf("inject: %s: %s was not fetched",
					entry.Where(m.File), entry.From))
			}
			continue
		}
		vars, err := entryVars(entry, sec)
		if err != nil {
			errs = append(errs, fmt.Errorf("inject: %s: %w", entry.Where(m.File), err))
			continue
		}
		for _, v := range vars {
			if err := claim(m.File, owner, v); err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, v)
		}
	}
	return out, errors.Join(errs...)
}

// claim records that v's entry owns v.Name, or says who owned it first.
func claim(file string, owner map[string]Var, v Var) error {
	first, dup := owner[v.Name]
	if !dup {
		owner[v.Name] = v
		return nil
	}
	return fmt.Errorf("inject: variable %s is given by %s%s and by %s%s",
		v.Name, first.From.Where(file), keyNote(first.Key), v.From.Where(file), keyNote(v.Key))
}

func keyNote(key string) string {
	if key == "" {
		return ""
	}
	return fmt.Sprintf(" (key %q)", key)
}

// entryVars computes the variables of one manifest entry.
func entryVars(e manifest.Secret, sec source.Secret) ([]Var, error) {
	if e.Env == "" && len(e.EnvMap) == 0 && !e.Expand {
		return nil, nil // a template-only secret
	}
	if sec.Tree != nil || e.From.IsPath() { // an empty path may come back as nil
		return treeVars(e, sec.Tree)
	}
	if sec.Composite && e.From.Key == "" && e.Env != "" {
		return nil, fmt.Errorf("%s holds many values; pick one with #NAME, "+
			"or use prefix or an env mapping", e.From)
	}
	base := sec.Value
	if e.From.Key != "" {
		v, err := source.Field(base, e.From.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.From, err)
		}
		base = v
	}
	var vars []Var
	var err error
	switch {
	case e.Env != "":
		vars = []Var{{Name: e.Env, Value: base, From: e, Key: e.From.Key}}
	case len(e.EnvMap) > 0:
		vars, err = mapVars(e, base)
	default:
		vars, err = expandVars(e, base)
	}
	if err != nil {
		return nil, err
	}
	return vars, checkAll(e, sec, vars)
}

func mapVars(e manifest.Secret, base secret.Value) ([]Var, error) {
	vars := make([]Var, 0, len(e.EnvMap))
	for _, p := range e.EnvMap {
		v, err := source.Field(base, p.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.From, err)
		}
		vars = append(vars, Var{Name: p.Name, Value: v, From: e, Key: p.Key})
	}
	return vars, nil
}

func expandVars(e manifest.Secret, base secret.Value) ([]Var, error) {
	fields, err := source.Fields(base)
	if err != nil {
		return nil, fmt.Errorf("%s: prefix needs a JSON object: %w", e.From, err)
	}
	return named(e, fields)
}

// treeVars gives the variables of a path: by env map, or all of them.
func treeVars(e manifest.Secret, tree map[string]secret.Value) ([]Var, error) {
	if !e.Expand {
		vars := make([]Var, 0, len(e.EnvMap))
		for _, p := range e.EnvMap {
			v, ok := tree[p.Key]
			if !ok {
				return nil, fmt.Errorf("%s: no parameter %q under the path", e.From, p.Key)
			}
			vars = append(vars, Var{Name: p.Name, Value: v, From: e, Key: p.Key})
		}
		return vars, checkAll(e, source.Secret{}, vars)
	}
	vars, err := named(e, tree)
	if err != nil {
		return nil, err
	}
	return vars, checkAll(e, source.Secret{}, vars)
}

// named maps each key to prefix + Name(key), sorted by key.
func named(e manifest.Secret, values map[string]secret.Value) ([]Var, error) {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	vars := make([]Var, 0, len(keys))
	for _, k := range keys {
		name := e.Prefix + Name(k)
		if !validName(name) {
			return nil, fmt.Errorf("%s: key %q gives %q, which is not a valid variable name; "+
				"set a prefix", e.From, k, name)
		}
		vars = append(vars, Var{Name: name, Value: values[k], From: e, Key: k})
	}
	return vars, nil
}

// Name maps a JSON key or a path relative to its prefix to a variable
// name: ASCII letters are upper-cased and every other character than
// A-Z, 0-9 and _ becomes one _. So "db/host" and "db-host" both give
// DB_HOST, "apiKey" gives APIKEY and "héllo" gives H_LLO.
func Name(key string) string {
	var b strings.Builder
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r == '_' || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func validName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	return Name(s) == strings.ToUpper(s)
}

// checkAll refuses values the kernel or the child cannot take.
func checkAll(e manifest.Secret, sec source.Secret, vars []Var) error {
	for _, v := range vars {
		if err := Check(v.Name, v.Value, sec.Binary); err != nil {
			return fmt.Errorf("%s: %w", e.From, err)
		}
	}
	return nil
}

// Check reports whether value can be the environment variable name.
func Check(name string, value secret.Value, binary bool) error {
	b := value.Bytes()
	if bytes.IndexByte(b, 0) >= 0 {
		return fmt.Errorf("variable %s: value contains a NUL byte, which an environment "+
			"variable cannot hold; write it to a file instead", name)
	}
	if binary && !utf8.Valid(b) {
		return fmt.Errorf("variable %s: binary secret is not valid UTF-8 text; "+
			"write it to a file instead", name)
	}
	if n := len(name) + 1 + len(b) + 1; n > MaxVarLen {
		return fmt.Errorf("variable %s: %d bytes is more than the kernel's limit of %d "+
			"for one variable; write it to a file instead", name, n, MaxVarLen)
	}
	return nil
}
