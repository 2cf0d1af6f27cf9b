package inject

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/file"
)

// exportValues are the awkward values every format must carry exactly.
var exportValues = []Var{
	{Name: "TOKEN", Value: secret.FromString("tok\n")},
	{Name: "PADDED", Value: secret.FromString("a=b==")},
	{Name: "DASHES", Value: secret.FromString("--k3y")},
	{Name: "UNI", Value: secret.FromString("héllo ✓")},
	{Name: "DOLLAR", Value: secret.FromString("$HOME `x` \\n")},
	{Name: "QUOTES", Value: secret.FromString(`both "double" and 'single'` + "\t\r")},
}

func TestExportSh(t *testing.T) {
	var out bytes.Buffer
	if err := Export(&out, exportValues, "sh"); err != nil {
		t.Fatal(err)
	}
	// A real POSIX shell reads the lines back; each value is printed
	// between markers so that trailing newlines survive.
	script := out.String()
	for _, v := range exportValues {
		script += `printf '<%s>' "$` + v.Name + `"` + "\n"
	}
	got, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, v := range exportValues {
		want.WriteString("<" + v.Value.Reveal() + ">")
	}
	if string(got) != want.String() {
		t.Errorf("sh read back %q, want %q", got, want.String())
	}
}

func TestExportDotenvReadsBack(t *testing.T) {
	var out bytes.Buffer
	if err := Export(&out, exportValues, "dotenv"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.env"), out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ref, err := source.Parse("file://x.env")
	if err != nil {
		t.Fatal(err)
	}
	res := file.New(dir).Fetch(context.Background(), []source.Ref{ref})[0]
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	fields, err := source.Fields(res.Secret.Value)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range exportValues {
		if got := fields[v.Name].Reveal(); got != v.Value.Reveal() {
			t.Errorf("%s read back as %q, want %q", v.Name, got, v.Value.Reveal())
		}
	}
}

func TestExportJSON(t *testing.T) {
	var out bytes.Buffer
	if err := Export(&out, exportValues, "json"); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, v := range exportValues {
		if got[v.Name] != v.Value.Reveal() {
			t.Errorf("%s = %q, want %q", v.Name, got[v.Name], v.Value.Reveal())
		}
	}
	if err := Export(&out, exportValues, "yaml"); err == nil ||
		!strings.Contains(err.Error(), "use one of sh, dotenv, json") {
		t.Errorf("format yaml: %v", err)
	}
}
