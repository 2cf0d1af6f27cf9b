package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
)

const canary = "canary-5d1e-file"

func fetchOne(t *testing.T, dir, raw string) source.Result {
	t.Helper()
	ref, err := source.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return New(dir).Fetch(context.Background(), []source.Ref{ref})[0]
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDotenvBecomesJSONObject(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "dev.env", strings.Join([]string{
		"# comment",
		"",
		"export PLAIN=a=b==",
		"SPACED =  padded value   # trailing comment",
		`DQ="line1\nline2 \"q\" 'x' $HOME"`,
		`SQ='--k3y \n kept'`,
		`MULTI="first`,
		`second"`,
		"UNI=héllo ✓",
		"EMPTY=",
	}, "\n"))
	res := fetchOne(t, dir, "file://dev.env")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := map[string]string{
		"PLAIN":  "a=b==",
		"SPACED": "padded value",
		"DQ":     "line1\nline2 \"q\" 'x' $HOME",
		"SQ":     `--k3y \n kept`,
		"MULTI":  "first\nsecond",
		"UNI":    "héllo ✓",
		"EMPTY":  "",
	}
	fields, err := source.Fields(res.Secret.Value)
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) != len(want) {
		t.Errorf("got %d fields, want %d", len(fields), len(want))
	}
	for k, v := range want {
		if got := fields[k].Reveal(); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if res.Secret.Version == "" {
		t.Error("version is empty; want the file's modification time")
	}
}

func TestFormats(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "s.json", `{"n": 12345678901234567890, "b": true}`)
	write(t, dir, "token", "tok\n")
	write(t, dir, "conf", "A=1\n")

	n, err := source.Field(fetchOne(t, dir, "file://s.json").Secret.Value, "n")
	if err != nil || n.Reveal() != "12345678901234567890" {
		t.Errorf("json field n = %q, %v", n.Reveal(), err)
	}
	if got := fetchOne(t, dir, "file://token").Secret.Value.Reveal(); got != "tok\n" {
		t.Errorf("raw file = %q, want %q", got, "tok\n")
	}
	conf := fetchOne(t, dir, "file://conf?format=dotenv").Secret.Value
	if a, err := source.Field(conf, "A"); err != nil || a.Reveal() != "1" {
		t.Errorf("dotenv via ?format: A = %q, %v", a.Reveal(), err)
	}
	abs := fetchOne(t, "/nonexistent", "file://"+filepath.Join(dir, "token"))
	if abs.Err != nil || abs.Secret.Value.Reveal() != "tok\n" {
		t.Errorf("absolute path: %v", abs.Err)
	}
}

func TestErrorsNameFileNeverValue(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.env", "OK=1\n"+canary+"\n")
	write(t, dir, "open.env", `X="`+canary)
	write(t, dir, "bad.json", `{"a": `+canary)
	cases := map[string]string{
		"file://bad.env":  "bad.env:2: want NAME=value",
		"file://open.env": "open.env:1: X: unterminated double quote",
		"file://bad.json": "bad.json is not valid JSON",
		"file://missing":  "missing: not found",
	}
	for raw, want := range cases {
		res := fetchOne(t, dir, raw)
		if res.Err == nil {
			t.Errorf("%s: no error", raw)
			continue
		}
		msg := res.Err.Error()
		if !strings.Contains(msg, want) || !strings.HasPrefix(msg, raw+": file: ") {
			t.Errorf("%s: error %q, want it to start with the reference and contain %q",
				raw, msg, want)
		}
		if strings.Contains(msg, canary) {
			t.Errorf("%s: error leaks the file's contents", raw)
		}
		if !source.IsPermanent(res.Err) {
			t.Errorf("%s: error is not permanent; retrying a bad file cannot help", raw)
		}
	}
	if err := fetchOne(t, dir, "file://missing").Err; !errors.Is(err, source.ErrNotFound) {
		t.Errorf("missing file: %v does not wrap ErrNotFound", err)
	}
}

func TestRefusesWhatCouldBlockOrCorrupt(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "latin.env", "LATIN=caf\xe9\n")
	cases := map[string]string{
		"file://fifo":      "fifo is not a regular file",
		"file://latin.env": "latin.env:1: LATIN: value is not valid UTF-8",
	}
	for raw, want := range cases {
		res := fetchOne(t, dir, raw)
		if res.Err == nil || !strings.Contains(res.Err.Error(), want) {
			t.Errorf("%s: error %v, want %q", raw, res.Err, want)
		}
	}
	if !fetchOne(t, dir, "file://latin.env?format=raw").Secret.Value.Equal(
		secret.FromString("LATIN=caf\xe9\n")) {
		t.Error("a raw file did not keep its bytes")
	}
}

func TestDotenvIsComposite(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.env", "A=1\n")
	write(t, dir, "a.json", `{"A":"1"}`)
	if !fetchOne(t, dir, "file://a.env").Secret.Composite {
		t.Error("a dotenv file is not marked Composite")
	}
	if fetchOne(t, dir, "file://a.json").Secret.Composite {
		t.Error("a JSON file, stored as written, is marked Composite")
	}
}
