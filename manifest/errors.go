package manifest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a manifest, placed at the line and column of the
// YAML node it is about. Field is the path to that node, such as
// "secrets[2].env".
type Error struct {
	File      string
	Line, Col int
	Field     string
	Msg       string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Errors is every problem found in one manifest, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxErrors keeps a badly broken file from burying the first problem.
const maxErrors = 20

// collector gathers errors while a manifest is decoded.
type collector struct {
	file    string
	errs    Errors
	merging map[*yaml.Node]bool // mappings being merged, to stop a cycle
}

func (c *collector) at(n *yaml.Node, field, format string, args ...any) {
	e := &Error{File: c.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	c.errs = append(c.errs, e)
}

func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(c.errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	// Cut only after sorting, so that the first problems in the file stay.
	if len(c.errs) > maxErrors {
		return c.errs[:maxErrors]
	}
	return c.errs
}

// IsManifestError reports whether err came from reading a manifest's
// contents, as opposed to failing to open it.
func IsManifestError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
