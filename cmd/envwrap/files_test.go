package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestTemplatesRenderBeforeTheChild renders two files, one from a JSON
// secret in the AWS emulator, and checks that the child reads them.
func TestTemplatesRenderBeforeTheChild(t *testing.T) {
	url, sm, _ := emulator(t)
	putSecret(t, sm, "tpl/db", `{"user":"app","password":"`+canary+`","port":5432}`)
	dir := t.TempDir()
	tmpl := "user={{ .db.user }}\npassword={{ .db.password }}\nport={{ .db.port }}\n"
	if err := os.WriteFile(filepath.Join(dir, "db.conf.tmpl"), []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, `version: 1
aws: {region: us-east-1, endpoint: "`+url+`"}
secrets:
  - {from: "aws-sm://tpl/db", as: db, env: {DB_USER: user}}
templates:
  - {source: db.conf.tmpl, destination: out/db.conf, create_dirs: true}
  - contents: "{{ .DB_USER }}@{{ .db.port }}"
    destination: out/dsn
    mode: "0640"
`)
	conf, dsn := filepath.Join(dir, "out/db.conf"), filepath.Join(dir, "out/dsn")
	out := filepath.Join(dir, "report.json")
	res := envwrap(t, dir, nil, append([]string{"--log-level", "debug"},
		childArgs("readfiles", out, conf, dsn)...)...)
	if res.code != 0 {
		t.Fatalf("exit %d:\n%s", res.code, res.stderr)
	}
	rep := readReport(t, out)
	want := "user=app\npassword=" + canary + "\nport=5432\n"
	if len(rep.Files) != 2 || rep.Files[0] != want || rep.Files[1] != "app@5432" {
		t.Errorf("the child read %q", rep.Files)
	}
	assertMode(t, conf, 0o600)
	assertMode(t, dsn, 0o640)
	assertOnly(t, filepath.Join(dir, "out"), "db.conf", "dsn")
	if strings.Contains(res.stderr, canary) {
		t.Error("a secret value appeared in envwrap's output")
	}
}

func TestMissingKeyStopsBeforeAnythingIsWritten(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.json"), []byte(`{"a":"`+canary+`"}`),
		0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.tmpl"), []byte("a={{ .s.a }}\n"+
		"b={{ .s.b }}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, `version: 1
secrets:
  - {from: "file://s.json", as: s}
templates:
  - {contents: "fine", destination: first.txt}
  - {source: app.tmpl, destination: app.conf}
`)
	out := filepath.Join(dir, "report.json")
	res := envwrap(t, dir, nil, childArgs("report", out)...)
	if res.code != exitRender {
		t.Errorf("exit %d, want %d", res.code, exitRender)
	}
	tmplPath := filepath.Join(dir, "app.tmpl")
	if !strings.Contains(res.stderr, tmplPath+":2:") || !strings.Contains(res.stderr, `"b"`) {
		t.Errorf("the error does not name %s, line 2 and key b:\n%s", tmplPath, res.stderr)
	}
	if strings.Contains(res.stderr, canary) {
		t.Error("the error quotes a secret value")
	}
	for _, name := range []string{"report.json", "app.conf"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s exists; nothing should have been written or started", name)
		}
	}
	// The first template renders, but no file is written while another fails.
	assertOnly(t, dir, "s.json", "app.tmpl", "envwrap.yaml")
}

func TestRenderCommand(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dev.env"), []byte("TOKEN=tok\n"),
		0o600); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, `version: 1
secrets:
  - {from: "file://dev.env#TOKEN", env: TOKEN}
templates:
  - {contents: "token={{ .TOKEN }}\n", destination: token.conf, remove_on_exit: true}
`)
	res := envwrap(t, dir, nil, "render")
	got, err := os.ReadFile(filepath.Join(dir, "token.conf"))
	if res.code != 0 || err != nil || string(got) != "token=tok\n" {
		t.Fatalf("render: exit %d, file %q, %v:\n%s", res.code, got, err, res.stderr)
	}
	if res := envwrap(t, dir, nil, "render", "extra"); res.code != exitUsage {
		t.Errorf("render with an argument: exit %d, want %d", res.code, exitUsage)
	}
	writeManifest(t, dir, `version: 1
secrets:
  - {from: "file://dev.env#TOKEN", env: TOKEN}
templates:
  - {contents: "{{ .NOPE }}", destination: nope.conf}
`)
	if res := envwrap(t, dir, nil, "render"); res.code != exitRender {
		t.Errorf("render with a missing key: exit %d, want %d", res.code, exitRender)
	}
}

func TestRemoveOnExit(t *testing.T) {
	dir := t.TempDir()
	writeManifest(t, dir, `version: 1
templates:
  - {contents: "x", destination: gone.txt, remove_on_exit: true}
  - {contents: "y", destination: kept.txt}
`)
	out := filepath.Join(dir, "report.json")
	gone, kept := filepath.Join(dir, "gone.txt"), filepath.Join(dir, "kept.txt")
	res := envwrap(t, dir, nil, childArgs("readfiles", out, gone, kept)...)
	if res.code != 0 {
		t.Fatalf("exit %d:\n%s", res.code, res.stderr)
	}
	if rep := readReport(t, out); strings.Join(rep.Files, ",") != "x,y" {
		t.Errorf("the child read %q, want x and y", rep.Files)
	}
	if _, err := os.Stat(gone); err == nil {
		t.Error("gone.txt is still there after the child exited")
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("kept.txt was removed: %v", err)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	if got := os.FileMode(st.Mode & 0o7777); got != want {
		t.Errorf("%s has mode %#o, want %#o", path, got, want)
	}
}

// assertOnly checks that dir holds exactly the names given: no stray
// temporary files.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Errorf("%s holds %q, want exactly %q", dir, got, names)
	}
}
