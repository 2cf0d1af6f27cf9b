package render

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// TemplateError is a rendering that failed at a place in the template.
// Its message never quotes a value.
type TemplateError struct {
	Template    string // Spec.Name
	Destination string
	Line, Col   int    // 0 when unknown
	Msg         string // what went wrong, value-free
}

func (e *TemplateError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("render: %s: %s (destination %s)", e.Template, e.Msg, e.Destination)
	}
	return fmt.Sprintf("render: %s:%d:%d: %s (destination %s)",
		e.Template, e.Line, e.Col, e.Msg, e.Destination)
}

// execMsg takes apart text/template's execution errors, which read
// `template: NAME:LINE:COL: executing "NAME" at <ACTION>: MESSAGE`.
var execMsg = regexp.MustCompile(
	`(?s)^template: .*?:(\d+):(\d+): executing "(?:[^"\\]|\\.)*" at <(.*?)>: (.*)$`)

// execError rebuilds an execution error from parts known to be free of
// values. text/template quotes values in some messages ("range can't
// iterate over ...", eq's "non-comparable types ..."), so its message is
// kept only when it is one of those known to hold names and types alone.
func (t *Template) execError(err error) error {
	e := &TemplateError{Template: t.spec.Name, Destination: t.spec.Destination}
	var ee template.ExecError
	if !errors.As(err, &ee) {
		e.Msg = t.scrub(safeMessage("", err))
		return e
	}
	m := execMsg.FindStringSubmatch(ee.Err.Error())
	if m == nil {
		// Without a place: "template: NAME: MESSAGE".
		msg := strings.TrimPrefix(ee.Err.Error(), "template: "+ee.Name+": ")
		e.Msg = t.scrub(safeMessage(msg, ee.Err))
		return e
	}
	e.Line, _ = strconv.Atoi(m[1])
	e.Col, _ = strconv.Atoi(m[2])
	e.Col++ // text/template counts columns from 0; editors and YAML from 1
	action := m[3]
	if !strings.HasPrefix(action, "{{") { // a printed action comes with its braces
		action = "{{" + action + "}}"
	}
	e.Msg = t.scrub(action + ": " + safeMessage(m[4], ee.Err))
	return e
}

// quoted finds the quoted strings in a message.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// scrub withholds every quoted string in msg that is not written in the
// template itself. A key or a message can come from the data, as in
// {{ index .db .TOKEN }}, and the data holds secrets; a name the template
// spells out is no secret.
func (t *Template) scrub(msg string) string {
	return quoted.ReplaceAllStringFunc(msg, func(q string) string {
		s, err := strconv.Unquote(q)
		if err != nil || !strings.Contains(t.text, s) {
			return "[a name from the data, withheld]"
		}
		return q
	})
}

var (
	missingKey = regexp.MustCompile(`^(?:map has|nil data;) no entry for key (".*")$`)
	notObject  = regexp.MustCompile(`^can't evaluate field (\S+) in type `)
	cantPrint  = regexp.MustCompile(`^can't print .* of type render\.null$`)
	// Messages that start with a field name rather than a fixed phrase.
	fieldArgs = regexp.MustCompile(`^\S+ (?:is not a method but has arguments|` +
		`has arguments but cannot be invoked as function)$`)
)

// safeMessage says what went wrong without the risk of quoting a value.
func safeMessage(msg string, err error) string {
	var fe *funcError
	if errors.As(err, &fe) {
		return fe.msg
	}
	if errors.Is(err, errNoValue) {
		return errNoValue.Error()
	}
	if m := missingKey.FindStringSubmatch(msg); m != nil {
		return "missing key " + m[1] + ": no secret, variable or JSON key has that name " +
			"(get and default handle keys that may be absent)"
	}
	if m := notObject.FindStringSubmatch(msg); m != nil {
		// The type named is often just the map's interface{}, so say
		// what it is not.
		return fmt.Sprintf("cannot look up %q: the value is not a JSON object", m[1])
	}
	if strings.HasPrefix(msg, "range can't iterate over ") {
		return "range works over a JSON object or array only"
	}
	if cantPrint.MatchString(msg) {
		return noValueMsg
	}
	if fieldArgs.MatchString(msg) {
		return msg
	}
	if strings.HasPrefix(msg, "error calling ") {
		return builtinMessage(msg)
	}
	for _, p := range safePrefixes {
		if strings.HasPrefix(msg, p) {
			return msg
		}
	}
	return "cannot be evaluated (text/template's message is withheld: it may quote a value)"
}

// safePrefixes begin text/template messages whose arguments are names,
// types, numbers or template text, never a value being rendered.
var safePrefixes = []string{
	"undefined variable", "template \"", "exceeded maximum template depth",
	"can't give argument to non-function", "nil is not a command", "can't evaluate command",
	"wrong number of args for", "invalid value; expected", "wrong type for value; expected",
	"cannot assign nil to", "can't handle ", "expected bool; found", "expected string; found",
	"expected integer; found", "expected unsigned integer; found", "expected float; found",
	"expected complex; found", "nil pointer evaluating", "indirection through explicit nil",
}

// builtinSafe begin messages of text/template's built-in functions
// (len, slice, eq, lt...) that hold types and numbers only.
var builtinSafe = []string{
	"incompatible types for comparison", "invalid type for comparison",
	"missing argument for comparison", "index out of range", "len of ", "can't slice item",
	"invalid slice index", "too many slice indexes", "cannot 3-index", "slice of ",
	"wrong number of args", "arg ",
}

func builtinMessage(msg string) string {
	fn, rest, _ := strings.Cut(strings.TrimPrefix(msg, "error calling "), ": ")
	for _, p := range builtinSafe {
		if strings.HasPrefix(rest, p) {
			return msg
		}
	}
	return fn + " failed (text/template's message is withheld: it may quote a value)"
}
