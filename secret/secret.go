// Package secret owns the type that carries a secret's bytes through
// envwrap. A Value never shows its contents when printed, formatted,
// logged or marshalled; the bytes come out only through Bytes or
// String's explicit twin, Reveal.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Value prints as, whatever the verb.
const Redacted = "[redacted]"

// Value holds a secret's bytes. The zero Value is empty.
type Value struct {
	b []byte
}

// New returns a Value holding a copy of b.
func New(b []byte) Value {
	return Value{b: append([]byte(nil), b...)}
}

// FromString returns a Value holding s.
func FromString(s string) Value {
	return Value{b: []byte(s)}
}

// Bytes returns the secret's bytes. The caller must not modify them.
func (v Value) Bytes() []byte { return v.b }

// Reveal returns the secret as a string, for the few places that hand it
// on: the child's environment and rendered files.
func (v Value) Reveal() string { return string(v.b) }

// Len is the secret's length in bytes; lengths are not secret.
func (v Value) Len() int { return len(v.b) }

// Equal reports whether two values hold the same bytes.
func (v Value) Equal(o Value) bool { return string(v.b) == string(o.b) }

// String implements fmt.Stringer and never reveals the value.
func (v Value) String() string { return Redacted }

// GoString implements fmt.GoStringer for %#v.
func (v Value) GoString() string { return Redacted }

// Format implements fmt.Formatter so that every verb, %x and %q included,
// prints the redaction marker instead of the bytes.
func (v Value) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler, used by YAML and others.
func (v Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue implements slog.LogValuer.
func (v Value) LogValue() slog.Value { return slog.StringValue(Redacted) }
