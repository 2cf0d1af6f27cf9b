package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/envwrap/envwrap/secret"
)

// Field returns the field of a JSON object secret named by key, where
// dots separate levels ("db.host"). A string field is unquoted; a number
// keeps its exact digits; true and false stay as written; null is an
// error; an
// object or array becomes compact JSON.
//
// Errors name the key and never quote the secret: a JSON syntax error
// gives only the byte offset.
func Field(v secret.Value, key string) (secret.Value, error) {
	raw := json.RawMessage(v.Bytes())
	for part := range strings.SplitSeq(key, ".") {
		fields, err := object(raw)
		if err != nil {
			return secret.Value{}, fmt.Errorf("key %q: %w", key, err)
		}
		next, ok := fields[part]
		if !ok {
			return secret.Value{}, fmt.Errorf("key %q: no field %q", key, part)
		}
		raw = next
	}
	val, err := scalar(raw)
	if err != nil {
		return secret.Value{}, fmt.Errorf("key %q: %w", key, err)
	}
	return val, nil
}

// Fields returns every top-level field of a JSON object secret, each
// converted as Field converts it.
func Fields(v secret.Value) (map[string]secret.Value, error) {
	fields, err := object(v.Bytes())
	if err != nil {
		return nil, err
	}
	out := make(map[string]secret.Value, len(fields))
	for k, raw := range fields {
		if out[k], err = scalar(raw); err != nil {
			return nil, fmt.Errorf("field %q: %w", k, err)
		}
	}
	return out, nil
}

// object decodes a JSON object into its raw fields.
func object(b []byte) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("value is not a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return nil, jsonError(err)
	}
	return fields, nil
}

// scalar turns one raw JSON value into the text a variable or file gets.
func scalar(raw json.RawMessage) (secret.Value, error) {
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return secret.Value{}, jsonError(err)
		}
		return secret.FromString(s), nil
	case '{', '[':
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return secret.Value{}, jsonError(err)
		}
		return secret.New(buf.Bytes()), nil
	case 'n':
		return secret.Value{}, errors.New("value is null")
	default: // numbers, true and false: exactly as written
		return secret.New(raw), nil
	}
}

// jsonError reports where JSON decoding failed without quoting the input;
// encoding/json's own messages can include a character of the secret.
func jsonError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("value is not valid JSON (at byte %d)", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("value has JSON %s where %s was expected", typ.Value, typ.Type)
	}
	return errors.New("value is not valid JSON")
}
