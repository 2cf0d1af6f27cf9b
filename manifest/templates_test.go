package manifest

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

func TestTemplates(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "envwrap.yaml")
	m, err := Parse(file, []byte(`version: 1
defaults: {on_change: "signal:SIGHUP"}
secrets:
  - {from: "aws-sm://tls", as: tls}
templates:
  - source: app.conf.tmpl
    destination: out/app.conf
    mode: 0640
    owner: "1001"
    group: 0
    create_dirs: true
    remove_on_exit: true
  - contents: "{{ .tls }}"
    destination: /run/tls.pem
    on_change: restart
    missing_key: empty
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Template{{
		Index: 0, Line: 6, Col: 5, Source: filepath.Join(dir, "app.conf.tmpl"),
		Destination: filepath.Join(dir, "out/app.conf"), Mode: 0o640, UID: 1001, GID: 0,
		OnChange:   Action{Kind: Signal, Signal: 1},
		MissingKey: "error", CreateDirs: true, RemoveOnExit: true,
	}, {
		Index: 1, Line: 13, Col: 5, Contents: "{{ .tls }}", Destination: "/run/tls.pem",
		Mode: 0, UID: -1, GID: -1, OnChange: Action{Kind: Restart}, MissingKey: "empty",
	}}
	if len(m.Templates) != len(want) {
		t.Fatalf("got %d templates, want %d", len(m.Templates), len(want))
	}
	for i := range want {
		if m.Templates[i] != want[i] {
			t.Errorf("templates[%d] =\n%+v\nwant\n%+v", i, m.Templates[i], want[i])
		}
	}
	if got := m.Templates[1].Name(); got != "templates[1]" {
		t.Errorf("inline template name = %q", got)
	}
}

func TestTemplateErrors(t *testing.T) {
	head := "version: 1\nsecrets:\n  - {from: \"file://x\", env: DB, as: db}\ntemplates:\n"
	cases := map[string]string{
		"  - {destination: /a}\n": "envwrap.yaml:5:5: templates[0]: needs source " +
			"(a template file) or contents (the template itself)",
		"  - {source: a, contents: b, destination: /a}\n": "envwrap.yaml:5:17: " +
			"templates[0].contents: cannot be used with source; give one of them",
		"  - {source: a}\n": "envwrap.yaml:5:5: templates[0].destination: is required",
		"  - {source: a, destination: /a, mode: 999}\n": "envwrap.yaml:5:40: " +
			"templates[0].mode: want an octal file mode from 0001 to 0777",
		"  - {source: a, destination: /a, mode: \"4755\"}\n": "templates[0].mode: want an octal",
		"  - {source: a, destination: /a, owner: no-such-user-envwrap}\n": "envwrap.yaml:5:41: " +
			"templates[0].owner: no such owner on this machine: \"no-such-user-envwrap\"",
		"  - {source: a, destination: /a, on_change: reload}\n": "templates[0].on_change: " +
			"\"reload\" is not allowed; use one of: restart, signal:NAME",
		"  - {source: a, destination: /a, missing_key: zero}\n": "templates[0].missing_key: " +
			"\"zero\" is not allowed; use one of: error, empty",
		"  - {source: a, destination: /a}\n  - {source: b, destination: /a}\n": "" +
			"envwrap.yaml:6:5: templates[1]: destination /a is also written by templates[0] " +
			"at line 5",
		"  - {source: a, destination: /a, colour: red}\n": "templates[0].colour: unknown key",
	}
	for body, want := range cases {
		_, err := Parse("envwrap.yaml", []byte(head+body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %q", body, err, want)
		}
	}
}

func TestAsNameClashesWithVariable(t *testing.T) {
	_, err := Parse("envwrap.yaml", []byte(`version: 1
secrets:
  - {from: "file://x", env: DB}
  - {from: "file://y", as: DB}
templates:
  - {contents: "x", destination: /a}
`))
	want := "secrets[1].as: DB is also a variable of secrets[0]"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestModeIsFileMode(t *testing.T) {
	m, err := Parse("envwrap.yaml", []byte("version: 1\ntemplates:\n"+
		"  - {contents: x, destination: /a, mode: \"0o600\"}\n"))
	if err != nil || m.Templates[0].Mode != fs.FileMode(0o600) {
		t.Errorf("mode 0o600: %v, %v", err, m)
	}
}
