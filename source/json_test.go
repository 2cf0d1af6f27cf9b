package source

import (
	"reflect"
	"testing"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/secret/secrettest"
)

// canary marks secret text; no error message may contain any of it.
const canary = secrettest.Canary

func noCanary(t *testing.T, msg string) { secrettest.NoLeak(t, "the error", msg) }

func TestField(t *testing.T) {
	const doc = `{
		"big": 12345678901234567890,
		"exp": 1e+10, "exp2": 1E10, "float": 1.0, "neg": -0.000, "int": 42,
		"yes": true, "no": false,
		"obj": { "b": [1, 2 ,{"c" : "d"}], "h": "<&>" },
		"arr": [ "x", 1.50 ],
		"empty": "", "emptyobj": { }, "emptyarr": [ ],
		"uni": "h\u00e9llo ✓ \ud83d\ude00",
		"quotes": "it's \"quoted\"",
		"nl": "line1\nline2\ttab\\",
		"dollar": "$HOME ${X}",
		"a": {"b": {"c": "deep"}},
		"dot.key": "flat"
	}`
	tests := []struct{ key, want string }{
		{"big", "12345678901234567890"},
		{"exp", "1e+10"},
		{"exp2", "1E10"},
		{"float", "1.0"},
		{"neg", "-0.000"},
		{"int", "42"},
		{"yes", "true"},
		{"no", "false"},
		{"obj", `{"b":[1,2,{"c":"d"}],"h":"<&>"}`},
		{"obj.b", `[1,2,{"c":"d"}]`},
		{"arr", `["x",1.50]`},
		{"empty", ""},
		{"emptyobj", "{}"},
		{"emptyarr", "[]"},
		{"uni", "héllo ✓ 😀"},
		{"quotes", `it's "quoted"`},
		{"nl", "line1\nline2\ttab\\"},
		{"dollar", "$HOME ${X}"},
		{"a.b.c", "deep"},
		{"a.b", `{"c":"deep"}`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := Field(secret.FromString(doc), tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if got.Reveal() != tt.want {
				t.Errorf("got %q, want %q", got.Reveal(), tt.want)
			}
		})
	}
}

func TestFieldErrors(t *testing.T) {
	tests := []struct{ value, key, want string }{
		{`{"user": "` + canary + `"}`, "password", `key "password": no field "password"`},
		{`{"a": {"b": "` + canary + `"}}`, "a.c", `key "a.c": no field "c"`},
		{`{"a": "` + canary + `"}`, "a.b", `key "a.b": value is not a JSON object`},
		{`{"a": ["` + canary + `"]}`, "a.0", `key "a.0": value is not a JSON object`},
		{`{"p": null, "x": "` + canary + `"}`, "p", `key "p": value is null`},
		// A dotted name is a path; a key with a dot in it cannot be named.
		{`{"dot.key": "` + canary + `"}`, "dot.key", `key "dot.key": no field "dot"`},
		{canary, "k", `key "k": value is not a JSON object`},
		{`"` + canary + `"`, "k", `key "k": value is not a JSON object`},
		{"", "k", `key "k": value is not a JSON object`},
		{`{"k": ` + canary + `}`, "k", `key "k": value is not valid JSON (at byte 7)`},
		{`{"k": "` + canary + `"`, "k", `key "k": value is not valid JSON (at byte 21)`},
		{`{"k": "x"} ` + canary, "k", `key "k": value is not valid JSON (at byte 12)`},
		{"{'" + canary + "': 1}", "k", `key "k": value is not valid JSON (at byte 2)`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got, err := Field(secret.FromString(tt.value), tt.key)
			if err == nil {
				t.Fatalf("no error; got %q", got.Reveal())
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			noCanary(t, err.Error())
		})
	}
}

func TestFields(t *testing.T) {
	got, err := Fields(secret.FromString(` {"host": "db", "port": 5432, "ratio": 1.0,
		"tls": true, "opts": {"a": [1, 2]}, "pass": "p\"w\u0000x"} `))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"host": "db", "port": "5432", "ratio": "1.0", "tls": "true",
		"opts": `{"a":[1,2]}`, "pass": "p\"w\x00x",
	}
	plain := make(map[string]string, len(got))
	for k, v := range got {
		plain[k] = v.Reveal()
	}
	if !reflect.DeepEqual(plain, want) {
		t.Errorf("got %q, want %q", plain, want)
	}
}

func TestFieldsErrors(t *testing.T) {
	tests := []struct{ value, want string }{
		{`{"a": "` + canary + `", "b": null}`, `field "b": value is null`},
		{`[{"a": "` + canary + `"}]`, "value is not a JSON object"},
		{canary, "value is not a JSON object"},
		{`{"a": ` + canary + `}`, "value is not valid JSON (at byte 7)"},
		{"{\"a\": \"" + canary + "\n\"}", "value is not valid JSON (at byte 21)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got, err := Fields(secret.FromString(tt.value))
			if err == nil {
				t.Fatalf("no error; got %d fields", len(got))
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			noCanary(t, err.Error())
		})
	}
}
