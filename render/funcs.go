package render

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/template"
)

// funcError is an error from one of the functions below. Its message is
// built from function names, keys and offsets only, never from a value,
// so it is passed on to the user as it is.
type funcError struct{ msg string }

func (e *funcError) Error() string { return e.msg }

func fail(fn, format string, args ...any) error {
	return &funcError{msg: fn + ": " + fmt.Sprintf(format, args...)}
}

// wrap prefixes a value-free error with the function's name.
func wrap(fn string, err error) error { return &funcError{msg: fn + ": " + err.Error()} }

// funcs is the function set of every template; the package comment
// documents each one. index and the print family replace text/template's
// own: those print "<no value>" or "<nil>" where a value is missing.
func funcs() template.FuncMap {
	return template.FuncMap{
		"field": field, "get": get, "index": index,
		"toJSON": toJSON, "toPrettyJSON": toPrettyJSON, "fromJSON": fromJSON,
		"b64enc": b64enc, "b64dec": b64dec,
		"default": orDefault, "required": required,
		"indent": indent, "nindent": nindent, "quote": quote,
		"trim": trim, "trimPrefix": trimPrefix, "trimSuffix": trimSuffix,
		"trimAll": trimAll, "env": env,
		"print": printer("print", fmt.Sprint), "println": printer("println", fmt.Sprintln),
		"printf": printf,
	}
}

// field walks a dotted path, as a manifest's #key does, into a JSON
// object or into text holding one. A missing key is an error.
func field(path string, v any) (any, error) {
	x, err := walk("field", path, v)
	if err != nil {
		return nil, err
	}
	if x == nil {
		return nil, fail("field", "no key %q", path)
	}
	return x, nil
}

// get is field for keys that may be absent: it gives null instead, for
// default to replace.
func get(path string, v any) (any, error) {
	x, err := walk("get", path, v)
	if x == nil && err == nil {
		return null(nil), nil
	}
	return x, err
}

// walk returns the value at path, or nil (and no error) when a key on
// the way is absent.
func walk(fn, path string, v any) (any, error) {
	cur, err := asObject(fn, v)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(path, ".")
	for i, p := range parts {
		x, ok := cur[p]
		if !ok {
			return nil, nil
		}
		if i == len(parts)-1 {
			return x, nil
		}
		if _, isNull := x.(null); isNull {
			return nil, nil
		}
		if cur, ok = x.(object); !ok {
			return nil, fail(fn, "%q is %s, not a JSON object", strings.Join(parts[:i+1], "."),
				typeName(x))
		}
	}
	return nil, nil // not reached: Split returns at least one part
}

// asObject accepts an object, or text that holds a JSON object.
func asObject(fn string, v any) (object, error) {
	if o, ok := v.(object); ok {
		return o, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fail(fn, "want a JSON object, got %s", typeName(v))
	}
	x, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, wrap(fn, err)
	}
	o, ok := x.(object)
	if !ok {
		return nil, fail(fn, "want a JSON object, got %s", typeName(x))
	}
	return o, nil
}

// index is text/template's index made strict: a missing key is an error
// rather than a silent "<no value>".
func index(item any, keys ...any) (any, error) {
	for _, k := range keys {
		switch x := item.(type) {
		case object:
			s, ok := k.(string)
			if !ok {
				return nil, fail("index", "a JSON object's key must be text, got %T", k)
			}
			if item, ok = x[s]; !ok {
				return nil, fail("index", "no key %q", s)
			}
		case list:
			i, ok := k.(int)
			if !ok {
				return nil, fail("index", "a JSON array's index must be a number, got %T", k)
			}
			if i < 0 || i >= len(x) {
				return nil, fail("index", "index %d is outside the array of %d", i, len(x))
			}
			item = x[i]
		default:
			return nil, fail("index", "cannot index %s", typeName(item))
		}
	}
	return item, nil
}

func toJSON(v any) (string, error) { return jsonOf("toJSON", v, "") }

func toPrettyJSON(v any) (string, error) { return jsonOf("toPrettyJSON", v, "  ") }

func jsonOf(fn string, v any, indent string) (string, error) {
	s, err := encodeJSON(v, indent)
	if err != nil {
		return "", wrap(fn, err)
	}
	return s, nil
}

func fromJSON(v any) (any, error) {
	s, err := text(v)
	if err != nil {
		return nil, wrap("fromJSON", err)
	}
	x, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, wrap("fromJSON", err)
	}
	return x, nil
}

func b64enc(v any) (string, error) {
	s, err := text(v)
	if err != nil {
		return "", wrap("b64enc", err)
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func b64dec(v any) (string, error) {
	s, err := text(v)
	if err != nil {
		return "", wrap("b64dec", err)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	var bad base64.CorruptInputError
	if errors.As(err, &bad) {
		return "", fail("b64dec", "not valid base64 (at byte %d)", int64(bad))
	}
	if err != nil { // not returned by encoding/base64 today
		return "", fail("b64dec", "not valid base64")
	}
	return string(b), nil
}

func orDefault(def, v any) any {
	if empty(v) {
		return def
	}
	return v
}

func required(msg string, v any) (any, error) {
	if empty(v) {
		return nil, &funcError{msg: "required: " + strconv.Quote(msg)}
	}
	return v, nil
}

// indent puts n spaces before every line that is not empty; empty lines
// stay empty so that a PEM block's final newline leaves no trailing blanks.
func indent(n int, v any) (string, error) { return indentText("indent", n, v) }

// nindent is indent after a newline, for a block that starts on the line
// below the action.
func nindent(n int, v any) (string, error) {
	s, err := indentText("nindent", n, v)
	if err != nil {
		return "", err
	}
	return "\n" + s, nil
}

func indentText(fn string, n int, v any) (string, error) {
	s, err := text(v)
	if err != nil {
		return "", wrap(fn, err)
	}
	if n < 0 {
		return "", fail(fn, "want a count of spaces from 0 up, got %d", n)
	}
	pad := strings.Repeat(" ", n)
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	b.Grow(len(s) + n*len(lines))
	for _, l := range lines {
		if l != "" && l != "\n" {
			b.WriteString(pad)
		}
		b.WriteString(l)
	}
	return b.String(), nil
}

// quote writes a double-quoted string with JSON's escapes, which YAML,
// TOML and JSON all read.
func quote(v any) (string, error) {
	s, err := text(v)
	if err != nil {
		return "", wrap("quote", err)
	}
	return encodeJSON(s, "")
}

func trim(v any) (string, error) {
	s, err := text(v)
	if err != nil {
		return "", wrap("trim", err)
	}
	return strings.TrimSpace(s), nil
}

func trimPrefix(prefix string, v any) (string, error) {
	s, err := text(v)
	if err != nil {
		return "", wrap("trimPrefix", err)
	}
	return strings.TrimPrefix(s, prefix), nil
}

func trimSuffix(suffix string, v any) (string, error) {
	s, err := text(v)
	if err != nil {
		return "", wrap("trimSuffix", err)
	}
	return strings.TrimSuffix(s, suffix), nil
}

func trimAll(cutset string, v any) (string, error) {
	s, err := text(v)
	if err != nil {
		return "", wrap("trimAll", err)
	}
	return strings.Trim(s, cutset), nil
}

// env reads envwrap's own environment; an unset variable is null, so
// that printing it fails and default can replace it.
func env(name string) any {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return null(nil)
}

// printer wraps fmt.Sprint or Sprintln so that a null is an error rather
// than "<nil>".
func printer(fn string, p func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		if err := checkArgs(fn, args); err != nil {
			return "", err
		}
		return p(args...), nil
	}
}

func printf(format string, args ...any) (string, error) {
	if err := checkArgs("printf", args); err != nil {
		return "", err
	}
	return fmt.Sprintf(format, args...), nil
}

// checkArgs refuses nulls and turns the nil of a missing key (only seen
// under missing_key "empty") into empty text, as a printed action does.
func checkArgs(fn string, args []any) error {
	for i, a := range args {
		switch a.(type) {
		case null:
			return fail(fn, "argument %d: %s", i+1, noValueMsg)
		case nil:
			args[i] = ""
		}
	}
	return nil
}
