package render

import (
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/secret/secrettest"
)

// canary marks secret text; no error message may contain any of it.
const canary = secrettest.Canary

func noCanary(t *testing.T, msg string) { secrettest.NoLeak(t, "the error", msg) }

// The secrets of the package comment's examples, and a few more.
const (
	dbJSON  = `{"user":"app","password":"p@ss","port":5432,"opts":{"ssl":true}}`
	numJSON = `{"big": 12345678901234567890, "f": 1.50, "e": 1e+10, "neg": -0.000,
		"arr": ["x", 1.50, {"k": "v"}], "t": true, "f0": false, "nul": null,
		"h": "<&>", "dot.key": "flat", "read-only": "ro", "empty": ""}`
	binary = "\x00\xff\xfe\x80 bin\r\n\x01"
)

func testData() Data {
	return Data{
		Secrets: map[string]secret.Value{
			"db":     secret.FromString(dbJSON),
			"num":    secret.FromString(numJSON),
			"bin":    secret.FromString(binary),
			"canary": secret.FromString(canary),
			"cjson":  secret.FromString(`{"k": "` + canary + `", "n": null}`),
			"notobj": secret.FromString(`{not json ` + canary),
		},
		Vars: map[string]secret.Value{
			"TOKEN":   secret.FromString("  abc\n"),
			"DB_JSON": secret.FromString(" {\"b\": 1,  \"a\": 2}\n"),
			"db":      secret.FromString("shadowed by the secret db"),
		},
	}
}

// execute parses src as an inline template named app.conf.tmpl and
// renders it.
func execute(t *testing.T, src string, d Data) (string, error) {
	t.Helper()
	tm, err := Parse(Spec{Name: "app.conf.tmpl", Contents: src, Destination: "/nonexistent/app.conf",
		UID: -1, GID: -1})
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	out, err := tm.Execute(d)
	return string(out), err
}

// spec is a Spec for an inline template rendering to dest.
func spec(dest, src string) Spec {
	return Spec{Name: "templates[0]", Contents: src, Destination: dest, UID: -1, GID: -1}
}

// write parses s and writes it with data d.
func write(t *testing.T, s Spec, d Data) (bool, error) {
	t.Helper()
	tm, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.Write(d)
}

// names lists a directory's entries, sorted, so that a stray temporary
// file shows.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

func wantNames(t *testing.T, dir string, want ...string) {
	t.Helper()
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

// stat is lstat(2): the mode bits, owner and inode as the kernel has them,
// whatever the umask was.
func stat(t *testing.T, path string) syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// perm is the permission part of a stat's mode, setuid and friends included.
func perm(st syscall.Stat_t) uint32 { return st.Mode & 0o7777 }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withUmask sets the process umask for one test. Tests in this package
// do not run in parallel, so no other file is created meanwhile.
func withUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown files to other users; run the tests as root to cover it")
	}
}
