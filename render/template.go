package render

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/template"

	"github.com/envwrap/envwrap/secret"
)

// Missing-key policies for Spec.MissingKey.
const (
	MissingError = "error" // the default: a missing key stops the rendering
	MissingEmpty = "empty" // a missing key renders as empty text
)

// Spec is one template, converted from the manifest by the caller.
type Spec struct {
	Name        string // for messages: the source path, or "templates[N]" for inline text
	Source      string // template file path; "" when Contents is used
	Contents    string // inline template text
	Destination string
	// Mode is the file's permission bits (setuid, setgid and sticky
	// included). 0: an existing file keeps its mode; a new one gets 0600.
	Mode fs.FileMode
	// UID and GID are the file's owner. -1: an existing file keeps its
	// owner (or group); a new one gets the process's.
	UID, GID int
	// CreateDirs creates missing parent directories, 0700; without it a
	// missing directory is an error.
	CreateDirs bool
	// MissingKey is MissingError (also when "") or MissingEmpty.
	MissingKey string
}

// Data is what templates render from.
type Data struct {
	Secrets map[string]secret.Value // by the manifest's as: name
	Vars    map[string]secret.Value // by environment variable name
}

// Template is a parsed template, ready to render. It is safe for
// concurrent use.
type Template struct {
	spec   Spec
	tmpl   *template.Template
	size   int    // of the template text, to size the output buffer
	text   string // the template text, to tell its own words from data
	strict bool
}

// modeBits are the parts of an fs.FileMode that Spec.Mode may set.
const modeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// Parse reads and parses one template. Its errors name the template and,
// for syntax errors, the line.
func Parse(s Spec) (*Template, error) {
	if s.Name == "" {
		s.Name = cmp.Or(s.Source, "template")
	}
	if err := check(s); err != nil {
		return nil, fmt.Errorf("render: %s: %w", s.Name, err)
	}
	text := s.Contents
	if s.Source != "" {
		b, err := os.ReadFile(s.Source)
		if err != nil {
			return nil, fmt.Errorf("render: %s: reading the template: %w", s.Name, err)
		}
		text = string(b)
	}
	t := &Template{spec: s, size: len(text), text: text, strict: s.MissingKey != MissingEmpty}
	// Under "empty", missingkey=default gives an invalid value that stays
	// invalid down a chain (.a.b.c), which output drops; missingkey=zero
	// would give a nil interface, which fails one step further on.
	opt := "missingkey=error"
	if !t.strict {
		opt = "missingkey=default"
	}
	tmpl, err := template.New(s.Name).Option(opt).Funcs(funcs()).Parse(text)
	if err != nil {
		// text/template says "template: NAME:LINE: what"; the template text
		// it may quote is the operator's, not a secret.
		msg := strings.TrimPrefix(err.Error(), "template: ")
		return nil, fmt.Errorf("render: %s (destination %s)", msg, s.Destination)
	}
	t.tmpl = tmpl
	return t, nil
}

func check(s Spec) error {
	switch {
	case s.Destination == "":
		return errors.New("no destination")
	case s.Source != "" && s.Contents != "":
		return errors.New("give a source file or contents, not both")
	case s.MissingKey != "" && s.MissingKey != MissingError && s.MissingKey != MissingEmpty:
		return fmt.Errorf("missing key policy %q is not one of %s, %s",
			s.MissingKey, MissingError, MissingEmpty)
	case s.Mode&^modeBits != 0:
		return fmt.Errorf("mode %v has bits other than permissions", s.Mode)
	}
	return nil
}

// Name is the template's name in messages.
func (t *Template) Name() string { return t.spec.Name }

// Destination is the file the template renders to.
func (t *Template) Destination() string { return t.spec.Destination }

// Execute renders the template. Its errors name the template, the line
// and column, and what was missing; they never quote a value.
func (t *Template) Execute(d Data) ([]byte, error) {
	out := &output{strict: t.strict}
	out.buf.Grow(t.size + t.size/8)
	if err := t.tmpl.Execute(out, d.root()); err != nil {
		// The partial output may hold secrets; leave none of it in memory.
		clear(out.buf.Bytes())
		return nil, t.execError(err)
	}
	return out.buf.Bytes(), nil
}

// root is the template's dot: variables by name, then secrets by as:
// name, which win where a name is both.
func (d Data) root() object {
	r := make(object, len(d.Vars)+len(d.Secrets))
	for name, v := range d.Vars {
		r[name] = v.Reveal()
	}
	for name, v := range d.Secrets {
		r[name] = secretValue(v)
	}
	return r
}

// noValue is what text/template prints for a missing value under
// missingkey=default, or for a nil it meets, in one Write of its own.
const noValue = "<no value>"

// errNoValue is returned when noValue is printed in strict mode. The
// functions and the data are built so that this cannot happen; it is the
// last guard of the promise that "<no value>" never reaches a file.
var errNoValue = errors.New("the template printed " + noValue +
	" for a missing value (the line is unknown)")

// output collects a rendering. It drops (missing_key "empty") or refuses
// (strict) the "<no value>" text/template prints for a missing value.
// A literal "<no value>" standing alone between two actions is taken for
// one too; no real template is expected to hold that text.
type output struct {
	buf    bytes.Buffer
	strict bool
}

func (o *output) Write(p []byte) (int, error) {
	if string(p) == noValue {
		if o.strict {
			return 0, errNoValue
		}
		return len(p), nil
	}
	return o.buf.Write(p)
}
