package secret

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const canary = "canary-7f3a9c-do-not-print"

func TestValueNeverPrints(t *testing.T) {
	v := FromString(canary)
	wrapped := struct {
		Name string
		V    Value
		P    *Value
	}{"x", v, &v}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		for _, arg := range []any{v, &v, wrapped, []Value{v}, map[string]Value{"k": v}} {
			got := fmt.Sprintf(verb, arg)
			if strings.Contains(got, canary) || strings.Contains(got, fmt.Sprintf("%x", canary)) {
				t.Errorf("%s of %T leaked the value", verb, arg)
			}
			if !strings.Contains(got, Redacted) {
				t.Errorf("%s of %T = %q, want it to contain %q", verb, arg, got, Redacted)
			}
		}
	}
}

func TestValueJSONAndLog(t *testing.T) {
	v := FromString(canary)
	b, err := json.Marshal(map[string]any{"v": v, "p": &v})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"p":"[redacted]","v":"[redacted]"}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	var sb strings.Builder
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("m", "secret", v)
	if strings.Contains(sb.String(), canary) || !strings.Contains(sb.String(), Redacted) {
		t.Errorf("slog output %q does not redact", sb.String())
	}
}

func TestValueKeepsBytes(t *testing.T) {
	raw := []byte("tok\n\x00é")
	v := New(raw)
	raw[0] = 'X'
	if got := v.Reveal(); got != "tok\n\x00é" {
		t.Errorf("Reveal = %q after caller changed its slice", got)
	}
	if !v.Equal(FromString("tok\n\x00é")) || v.Len() != 7 {
		t.Errorf("Equal/Len wrong: len %d", v.Len())
	}
}
