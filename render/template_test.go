package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envwrap/envwrap/secret"
)

const conf = "# app.conf\n[db]\nuser = {{ .db.user }}\n"

func TestMissingKeyFailsWithLine(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"missing key", conf + "password = {{ .db.pasword }}\n",
			`render: app.conf.tmpl:4:18: {{.db.pasword}}: missing key "pasword": no secret, ` +
				"variable or JSON key has that name (get and default handle keys that may be " +
				"absent) (destination /nonexistent/app.conf)"},
		{"missing secret", conf + "\n\ntoken = {{ .TOKN | trim }}\n",
			`render: app.conf.tmpl:6:12: {{.TOKN}}: missing key "TOKN": no secret, variable ` +
				"or JSON key has that name (get and default handle keys that may be absent) " +
				"(destination /nonexistent/app.conf)"},
		{"missing key under a secret's key", "{{ .cjson.k.x }}",
			`render: app.conf.tmpl:1:10: {{.cjson.k.x}}: cannot look up "x": the value is not ` +
				"a JSON object (destination /nonexistent/app.conf)"},
		{"missing key inside with", "{{ with .db }}\n{{ .pasword }}{{ end }}",
			`render: app.conf.tmpl:2:4: {{.pasword}}: missing key "pasword"`},
		{"missing key inside define", "{{ define \"x\" }}\n\n{{ .nope }}{{ end }}{{ template \"x\" . }}",
			`render: app.conf.tmpl:3:4: {{.nope}}: missing key "nope"`},
		{"null", "a\n{{ .cjson.n }}",
			"render: app.conf.tmpl:2:4: {{.cjson.n}}: no value (a JSON null, an unset " +
				"environment variable or a key that get did not find); give one with default " +
				"(destination /nonexistent/app.conf)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := execute(t, tt.src, testData())
			if err == nil {
				t.Fatalf("rendered %q; want an error", out)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got  %q\nwant %q", err, tt.want)
			}
			noCanary(t, err.Error())
		})
	}
}

// TestErrorsNeverQuoteValues drives text/template into the messages
// where it prints the value it was given, with the canary as the value.
func TestErrorsNeverQuoteValues(t *testing.T) {
	tests := []struct{ src, want string }{
		{"{{ range .canary }}{{ end }}",
			"1:10: {{.canary}}: range works over a JSON object or array only"},
		{"{{ range .cjson.k }}{{ end }}",
			"1:16: {{.cjson.k}}: range works over a JSON object or array only"},
		{"{{ if eq .cjson .cjson }}{{ end }}", "1:7: {{eq .cjson .cjson}}: eq failed " +
			"(text/template's message is withheld: it may quote a value)"},
		{"{{ if ne .cjson .cjson }}{{ end }}", "1:7: {{ne .cjson .cjson}}: ne failed"},
		{"{{ if eq .cjson .canary }}{{ end }}", "1:7: {{eq .cjson .canary}}: error calling eq: " +
			"incompatible types for comparison: render.object and string"},
		{"{{ lt .cjson .canary }}", "1:4: {{lt .cjson .canary}}: error calling lt:"},
		{"{{ .canary.x }}", `1:11: {{.canary.x}}: cannot look up "x"`},
		{"{{ .canary.x.y }}", `1:11: {{.canary.x.y}}: cannot look up "x"`},
		{"{{ slice .canary 3 99 }}", "1:4: {{slice .canary 3 99}}: error calling slice: " +
			"index out of range: 99"},
		{"{{ len .cjson.n }}", "1:4: {{len .cjson.n}}: error calling len: len of type render.null"},
		{"{{ call .cjson.n }}", "1:4: {{call .cjson.n}}: call failed"},
		{"{{ .canary 1 }}", "1:4: {{.canary}}: canary is not a method but has arguments"},
		{"{{ template \"nope\" }}", `1:13: {{template "nope"}}: template "nope" not defined`},
		{"{{ .canary | trimPrefix 3 }}", "1:25: {{3}}: expected string; found 3"},
		{"{{ index .canary }}", ""}, // index with no keys is the value itself
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			out, err := execute(t, tt.src, testData())
			if tt.want == "" {
				if err != nil || out != canary {
					t.Fatalf("got %q, %v; want the canary and no error", out, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("rendered %q; want an error", out)
			}
			if !strings.HasPrefix(err.Error(), "render: app.conf.tmpl:"+tt.want) {
				t.Errorf("got  %q\nwant render: app.conf.tmpl:%s...", err, tt.want)
			}
			noCanary(t, err.Error())
		})
	}
}

func TestNoValueIsNeverWritten(t *testing.T) {
	_, err := execute(t, "a{{ \"<no value>\" }}b", testData())
	if err == nil || err.Error() != "render: app.conf.tmpl: the template printed <no value> "+
		"for a missing value (the line is unknown) (destination /nonexistent/app.conf)" {
		t.Errorf("printing <no value>: got %v", err)
	}
	out, err := execute(t, "a<no value>b{{ .db.user }}<no value >", testData())
	if err != nil || out != "a<no value>bapp<no value >" {
		t.Errorf("literal text: got %q, %v", out, err)
	}
}

func TestMissingKeyEmpty(t *testing.T) {
	s := Spec{Name: "t", Destination: "/nonexistent/x", MissingKey: MissingEmpty,
		Contents: `[{{ .nope }}][{{ .db.nope }}][{{ .nope.deeper }}][{{ printf "%s" .nope }}]` +
			`[{{ .nope | trim }}][{{ .nope | default "d" }}][{{ .db.user }}]`}
	tm, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tm.Execute(testData())
	if want := "[][][][][][d][app]"; err != nil || string(out) != want {
		t.Errorf("got %q, %v; want %q", out, err, want)
	}
	// index stays strict, and a null is still no value.
	for _, src := range []string{`{{ index .db "nope" }}`, "{{ .cjson.n }}"} {
		s.Contents = src
		if tm, err = Parse(s); err != nil {
			t.Fatal(err)
		}
		if _, err := tm.Execute(testData()); err == nil {
			t.Errorf("%s rendered under missing_key empty; want an error", src)
		}
	}
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "app.conf.tmpl")
	if err := os.WriteFile(src, []byte("ok\n{{ .a \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		s    Spec
		want string
	}{
		{Spec{Source: src, Destination: "/d"},
			"render: " + src + ":3: unclosed action started at " + src + ":2 (destination /d)"},
		{Spec{Name: "templates[1]", Contents: "\n{{ nosuch .a }}", Destination: "/d"},
			`render: templates[1]:2: function "nosuch" not defined (destination /d)`},
		{Spec{Source: filepath.Join(dir, "nope"), Destination: "/d"},
			"render: " + dir + "/nope: reading the template: open " + dir + "/nope: " +
				"no such file or directory"},
		{Spec{Source: src, Contents: "x", Destination: "/d"},
			"render: " + src + ": give a source file or contents, not both"},
		{Spec{Name: "t", Destination: "/d", MissingKey: "zero"},
			`render: t: missing key policy "zero" is not one of error, empty`},
		{Spec{Name: "t"}, "render: t: no destination"},
		{Spec{Name: "t", Destination: "/d", Mode: os.ModeDir | 0o600},
			"render: t: mode drw------- has bits other than permissions"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.s)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%+v):\n got %v\nwant %s", tt.s, err, tt.want)
		}
	}
}

// TestSourceFile renders from a template file, whose path names it.
func TestSourceFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "app.conf.tmpl")
	if err := os.WriteFile(src, []byte(conf+"x = {{ .nope }}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tm, err := Parse(Spec{Source: src, Destination: filepath.Join(dir, "app.conf"),
		UID: -1, GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.Execute(testData())
	want := "render: " + src + `:4:8: {{.nope}}: missing key "nope"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v\nwant %s...", err, want)
	}
}

// TestExecuteTwice checks that a Template renders again from new data:
// rotation renders the same template many times.
func TestExecuteTwice(t *testing.T) {
	tm, err := Parse(spec("/nonexistent/x", "{{ .db.password }}"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"one", "two"} {
		d := Data{Secrets: map[string]secret.Value{
			"db": secret.FromString(`{"password":"` + pw + `"}`)}}
		out, err := tm.Execute(d)
		if err != nil || string(out) != pw {
			t.Errorf("got %q, %v; want %q", out, err, pw)
		}
	}
}
