package render

import (
	"os"
	"strings"
	"testing"
)

// TestFunctions renders every example of the package comment, and more,
// and compares the output byte for byte.
func TestFunctions(t *testing.T) {
	t.Setenv("HOME", "/root")
	t.Setenv("PORT", "")
	os.Unsetenv("PORT") // t.Setenv restores it afterwards
	t.Setenv("EMPTY_VAR", "")
	tests := []struct{ name, src, want string }{
		// What a template sees.
		{"as name walks", "{{ .db.user }}:{{ .db.password }}@:{{ .db.port }}", "app:p@ss@:5432"},
		{"nested", "{{ .db.opts.ssl }}", "true"},
		{"var exact", "[{{ .TOKEN }}]", "[  abc\n]"},
		{"var JSON stays text", "{{ .DB_JSON }}", " {\"b\": 1,  \"a\": 2}\n"},
		{"as name wins", "{{ .db.user }}", "app"},
		{"object prints compact sorted", "{{ .db }}",
			`{"opts":{"ssl":true},"password":"p@ss","port":5432,"user":"app"}`},
		{"numbers keep digits", "{{ .num.big }} {{ .num.f }} {{ .num.e }} {{ .num.neg }}",
			"12345678901234567890 1.50 1e+10 -0.000"},
		{"array prints compact", "{{ .num.arr }}", `["x",1.50,{"k":"v"}]`},
		{"array index and walk", "{{ index .num.arr 1 }} {{ (index .num.arr 2).k }}", "1.50 v"},
		{"range array", "{{ range $i, $v := .num.arr }}{{ $i }}={{ $v }};{{ end }}",
			`0=x;1=1.50;2={"k":"v"};`},
		{"range object sorted", "{{ range $k, $v := .db.opts }}{{ $k }}={{ $v }}{{ end }}",
			"ssl=true"},
		{"booleans", "{{ if .num.t }}T{{ end }}{{ if .num.f0 }}F{{ else }}f{{ end }}", "Tf"},
		{"null is false", "{{ if .num.nul }}x{{ else }}none{{ end }}", "none"},
		{"eq number text", `{{ if eq .db.port "5432" }}yes{{ end }}`, "yes"},
		{"binary exact", "{{ .bin }}", binary},
		{"not JSON stays text", "{{ len .notobj }}", "23"},
		{"no html escaping", "{{ .num.h }}", "<&>"},
		{"index odd key", `{{ index .num "read-only" }}`, "ro"},
		{"index root", `{{ index . "TOKEN" | trim }}`, "abc"},

		// field and get
		{"field", `{{ .db | field "opts.ssl" }}`, "true"},
		{"field in text", "{{ field \"a\" `{\"a\": 1.50}` }}", "1.50"},
		{"field in var", `{{ .DB_JSON | field "a" }}`, "2"},
		{"field dotted key flat", `{{ index .num "dot.key" }}`, "flat"},
		{"get default", `{{ .db | get "host" | default "localhost" }}`, "localhost"},
		{"get present", `{{ .db | get "user" | default "x" }}`, "app"},
		{"get null", `{{ .num | get "nul" | default "d" }}`, "d"},
		{"get under null", `{{ .num | get "nul.x" | default "d" }}`, "d"},
		{"with get", `{{ with get "host" .db }}{{ . }}{{ else }}absent{{ end }}`, "absent"},

		// index
		{"index", `{{ index .db "user" }}`, "app"},
		{"index nested", `{{ index .db "opts" "ssl" }}`, "true"},

		// JSON
		{"toJSON object", "{{ .db.opts | toJSON }}", `{"ssl":true}`},
		{"toJSON text", "{{ toJSON .db.user }}", `"app"`},
		{"toJSON numbers", "{{ toJSON .num }}", `{"arr":["x",1.50,{"k":"v"}],"big":` +
			`12345678901234567890,"dot.key":"flat","e":1e+10,"empty":"","f":1.50,"f0":false,` +
			`"h":"<&>","neg":-0.000,"nul":null,"read-only":"ro","t":true}`},
		{"toPrettyJSON", "{{ .db.opts | toPrettyJSON }}", "{\n  \"ssl\": true\n}"},
		{"fromJSON", "{{ (fromJSON `{\"a\":{\"b\":7}}`).a.b }}", "7"},
		{"fromJSON var", "{{ (fromJSON .DB_JSON).b }}", "1"},
		{"fromJSON array", "{{ index (fromJSON `[1, 2.50]`) 1 }}", "2.50"},

		// base64
		{"b64enc", "{{ .db.user | b64enc }}", "YXBw"},
		{"b64dec", `{{ "YXBw" | b64dec }}`, "app"},
		{"b64 binary round trip", "{{ .bin | b64enc }}|{{ .bin | b64enc | b64dec }}",
			"AP/+gCBiaW4NCgE=|" + binary},
		{"b64dec line breaks", "{{ \"AP/+gCBp\\nbg0KAQ==\\n\" | b64dec }}", binary[:5] + "in\r\n\x01"},

		// default and required
		{"default unset env", `{{ env "PORT" | default "8080" }}`, "8080"},
		{"default empty", `{{ .num.empty | default "e" }}`, "e"},
		{"default keeps false", `{{ .num.f0 | default "x" }}`, "false"},
		{"default empty env", `{{ env "EMPTY_VAR" | default "x" }}`, "x"},
		{"required", `{{ .db.user | required "db.user must not be empty" }}`, "app"},

		// indent
		{"nindent", `key: |{{ "a\nb\n" | nindent 2 }}`, "key: |\n  a\n  b\n"},
		{"indent", `{{ "a\n\nb" | indent 4 }}`, "    a\n\n    b"},
		{"indent PEM", "{{ \"-----BEGIN X-----\\nAAA\\n-----END X-----\\n\" | indent 2 }}",
			"  -----BEGIN X-----\n  AAA\n  -----END X-----\n"},
		{"indent zero", `{{ "a" | indent 0 }}`, "a"},

		// trim
		{"trim", "[{{ .TOKEN | trim }}]", "[abc]"},
		{"trimPrefix", `{{ "v1.2" | trimPrefix "v" }}`, "1.2"},
		{"trimSuffix", `{{ "app.conf" | trimSuffix ".conf" }}`, "app"},
		{"trimAll", `{{ "--x--" | trimAll "-" }}`, "x"},

		// env, quote, printf
		{"env", `{{ env "HOME" }}`, "/root"},
		{"quote", `password = {{ .db.password | quote }}`, `password = "p@ss"`},
		{"quote escapes", `{{ "a\"b\n" | quote }}`, `"a\"b\n"`},
		{"quote html", `{{ .num.h | quote }}`, `"<&>"`},
		{"quote number", `{{ .db.port | quote }}`, `"5432"`},
		{"printf", `{{ printf "%s:%s" .db.user .db.port }}`, "app:5432"},
		{"print", `{{ print .db.user 1 }}`, "app1"},
		{"println", `{{ println .db.user }}`, "app\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := execute(t, tt.src, testData())
			if err != nil {
				t.Fatalf("%s: %v", tt.src, err)
			}
			if got != tt.want {
				t.Errorf("%s\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

// TestFunctionErrors checks each function's error: located, named, and
// free of the secret.
func TestFunctionErrors(t *testing.T) {
	t.Setenv("PORT", "")
	os.Unsetenv("PORT")
	tests := []struct{ src, want string }{
		{`{{ .db | field "host" }}`, `1:10: {{field "host"}}: field: no key "host"`},
		{`{{ .db | field "user.x" }}`, `field: "user" is text, not a JSON object`},
		{`{{ .canary | field "x" }}`, "field: not valid JSON (at byte 1)"},
		{`{{ .notobj | field "x" }}`, "field: not valid JSON (at byte 2)"},
		{`{{ field "x" 3 }}`, "field: want a JSON object, got int"},
		{`{{ .cjson | get "k.x" }}`, `get: "k" is text, not a JSON object`},
		{`{{ .db | get "host" }}`, "1:4: {{.db | get \"host\"}}: no value (a JSON null"},
		{`{{ index .db "host" }}`, `index: no key "host"`},
		{`{{ index .num.arr 3 }}`, "index: index 3 is outside the array of 3"},
		{`{{ index .num.arr "a" }}`, "index: a JSON array's index must be a number, got string"},
		{`{{ index .canary 0 }}`, "index: cannot index text"},
		{`{{ fromJSON .canary }}`, "fromJSON: not valid JSON (at byte 1)"},
		{`{{ fromJSON "{\"a\": 1} x" }}`, "fromJSON: text after the JSON value (at byte 9)"},
		{`{{ fromJSON "{\"a\": " }}`, "fromJSON: not valid JSON (it ends early)"},
		{`{{ b64dec .canary }}`, "b64dec: not valid base64 (at byte 6)"},
		{`{{ .cjson.n | b64enc }}`, "b64enc: no value"},
		{`{{ .cjson.n | quote }}`, "quote: no value"},
		{`{{ .cjson.n | trim }}`, "trim: no value"},
		{`{{ .cjson.n | indent 2 }}`, "indent: no value"},
		{`{{ .canary | indent -1 }}`, "indent: want a count of spaces from 0 up, got -1"},
		{`{{ .canary | nindent -1 }}`, "nindent: want a count of spaces from 0 up, got -1"},
		{`{{ .num.empty | required "num.empty must be set" }}`,
			"1:17: {{required \"num.empty must be set\"}}: required: \"num.empty must be set\""},
		{`{{ env "PORT" }}`, `{{env "PORT"}}: no value (a JSON null, an unset environment variable`},
		{`{{ printf "%s" .cjson.n }}`, "printf: argument 1: no value"},
		{`{{ print .cjson.n }}`, "print: argument 1: no value"},
		{`{{ .cjson | toJSON | fromJSON | field "n" | trimAll "x" }}`, "trimAll: no value"},
		// Keys and messages that come from the data are withheld: the data
		// holds secrets.
		{`{{ index .db .canary }}`, "index: no key [a name from the data, withheld]"},
		{`{{ .db | field .canary }}`, "field: no key [a name from the data, withheld]"},
		{`{{ .db | field (printf "a.%s" .canary) }}`, "[a name from the data, withheld]"},
		{`{{ required .canary "" }}`, "required: [a name from the data, withheld]"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := execute(t, tt.src, testData())
			if err == nil {
				t.Fatalf("%s rendered; want an error", tt.src)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "render: app.conf.tmpl:1:") || !strings.Contains(msg, tt.want) {
				t.Errorf("%s\n got %q\nwant render: app.conf.tmpl:1:... containing %q",
					tt.src, msg, tt.want)
			}
			noCanary(t, msg)
		})
	}
}
