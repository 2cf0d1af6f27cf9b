package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/envwrap/envwrap/secret"
)

// object is a JSON object as templates see it: walkable with {{ .a.b }},
// printed as compact JSON. The root of a template's data is one too.
type object map[string]any

// list is a JSON array: indexable and rangeable, printed as compact JSON.
type list []any

// null stands for "no value": a JSON null, an unset environment variable,
// or a key that get did not find. It is a func type on purpose: text/template
// refuses to print a func and says so with the template's line, which makes
// printing "no value" a located error rather than silent empty text. A nil
// null is also false in {{ if }} and {{ with }}.
type null func()

// String implements fmt.Stringer; text/template uses it to print objects.
func (o object) String() string { return compact(o) }

// String implements fmt.Stringer; text/template uses it to print arrays.
func (l list) String() string { return compact(l) }

// MarshalJSON writes a JSON null, for toJSON.
func (null) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// Format is only reached through html, js and urlquery, which print their
// arguments with fmt; printf and friends refuse a null before it gets here.
func (null) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "null") }

// compact is the compact JSON of a value built by decodeJSON; such values
// always encode, so an error cannot happen.
func compact(v any) string {
	s, _ := encodeJSON(v, "")
	return s
}

// encodeJSON writes v as JSON, keys sorted, numbers as written, and <, >
// and & left alone: the output goes to config files, not HTML.
func encodeJSON(v any, indent string) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("value of type %s cannot be JSON", typeName(v))
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// decodeJSON parses one JSON document into the values templates walk.
// Its errors give a byte offset and never quote the input, which is
// secret.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers keep their digits: 1.50 stays 1.50
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("text after the JSON value (at byte %d)", dec.InputOffset())
	}
	return convert(v), nil
}

// convert gives encoding/json's generic values the types above.
func convert(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := make(object, len(x))
		for k, e := range x {
			o[k] = convert(e)
		}
		return o
	case []any:
		l := make(list, len(x))
		for i, e := range x {
			l[i] = convert(e)
		}
		return l
	case nil:
		return null(nil)
	default: // string, json.Number, bool
		return x
	}
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("not valid JSON (at byte %d)", syn.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("not valid JSON (it ends early)")
	}
	return errors.New("not valid JSON")
}

// secretValue is how a template sees a secret by its as: name: a JSON
// object becomes walkable; anything else is its bytes, exactly.
func secretValue(v secret.Value) any {
	b := v.Bytes()
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		if o, err := decodeJSON(b); err == nil {
			return o
		}
	}
	return v.Reveal()
}

// text turns a template value into the text a function works on.
func text(v any) (string, error) {
	switch x := v.(type) {
	case nil: // a missing key under missing_key "empty"
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return string(x), nil
	case bool, int, int64, float64:
		return fmt.Sprint(x), nil
	case object, list:
		return compact(x), nil
	case null:
		return "", errors.New(noValueMsg)
	}
	return "", fmt.Errorf("a value of type %s is not text", typeName(v))
}

// noValueMsg explains a null wherever one is refused.
const noValueMsg = "no value (a JSON null, an unset environment variable " +
	"or a key that get did not find); give one with default"

// empty reports whether default should replace v.
func empty(v any) bool {
	switch x := v.(type) {
	case nil, null:
		return true
	case string:
		return x == ""
	}
	return false
}

// typeName names a template value's type in words, for messages.
func typeName(v any) string {
	switch v.(type) {
	case nil, null:
		return "null"
	case string:
		return "text"
	case json.Number:
		return "a JSON number"
	case bool:
		return "a JSON boolean"
	case object:
		return "a JSON object"
	case list:
		return "a JSON array"
	}
	return fmt.Sprintf("%T", v)
}
