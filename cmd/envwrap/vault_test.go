package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envwrap/envwrap/source/vault/vaulttest"
)

// vaultEnv is the environment that points envwrap at v with its root
// token.
func vaultEnv(v *vaulttest.Server) []string {
	return []string{"VAULT_ADDR=" + v.Addr, "VAULT_TOKEN=" + v.RootToken}
}

// KV v1 and v2 values reach the child byte for byte, and neither the
// token nor a value appears in envwrap's debug output.
func TestVaultEndToEnd(t *testing.T) {
	v := vaulttest.Start(t)
	const canary = "canary-4f1e9b"
	values := map[string]any{"tok": "tok\n", "eq": "a=b==", "dash": "--k3y",
		"utf8": "héllo ✓", "dollar": "$HOME", "quotes": `it's "q"`, "canary": canary}
	v.Do(t, "POST", "secret/data/app", map[string]any{"data": values})
	v.Do(t, "POST", "kv1/app", values)
	dir := t.TempDir()
	writeManifest(t, dir, `version: 1
secrets:
  - from: vault://secret/app
    env: {TOK: tok, EQ: eq, DASH: dash, UTF8: utf8, DOLLAR: dollar, QUOTES: quotes,
          CANARY: canary}
  - {from: 'vault://secret/data/app#tok', env: TOK_DATA}
  - {from: vault://kv1/app, prefix: V1_}
`)
	out := filepath.Join(dir, "report.json")
	args := append([]string{"--log-level", "debug"}, childArgs("report", out)...)
	res := envwrap(t, dir, vaultEnv(v), args...)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	r := readReport(t, out)
	want := map[string]string{"TOK": "tok\n", "EQ": "a=b==", "DASH": "--k3y",
		"UTF8": "héllo ✓", "DOLLAR": "$HOME", "QUOTES": `it's "q"`, "TOK_DATA": "tok\n",
		"V1_TOK": "tok\n", "V1_EQ": "a=b==", "V1_QUOTES": `it's "q"`, "V1_UTF8": "héllo ✓"}
	for name, val := range want {
		if got, n := r.lookup(name); n != 1 || got != val {
			t.Errorf("%s = %q (%d times), want %q", name, got, n, val)
		}
	}
	if _, n := r.lookup("VAULT_TOKEN"); n != 0 {
		t.Errorf("the child got VAULT_TOKEN")
	}
	for _, leak := range []string{v.RootToken, canary} {
		if strings.Contains(res.stderr+res.stdout, leak) {
			t.Errorf("%q is in envwrap's output:\n%s", leak, res.stderr)
		}
	}
}

// A missing key or path fails naming it, and the child never starts.
func TestVaultMissing(t *testing.T) {
	v := vaulttest.Start(t)
	v.Do(t, "POST", "secret/data/app", map[string]any{"data": map[string]string{"k": "v"}})
	for _, tt := range []struct{ ref, want string }{
		{"vault://secret/app#nokey", `no field "nokey"`},
		{"vault://secret/nopath#k", "secret/data/nopath"},
		{"vault://kv1/nopath#k", "kv1/nopath"},
	} {
		dir := t.TempDir()
		writeManifest(t, dir, "version: 1\nsecrets:\n  - {from: '"+tt.ref+"', env: A}\n")
		out := filepath.Join(dir, "report.json")
		res := envwrap(t, dir, vaultEnv(v), childArgs("report", out)...)
		if res.code == 0 || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%s: exit %d, want non-zero naming %q:\n%s",
				tt.ref, res.code, tt.want, res.stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: the child started", tt.ref)
		}
	}
}

// Vault down at start: envwrap retries within --fetch-timeout, then exits
// non-zero naming the address; the child never starts.
func TestVaultDownAtStart(t *testing.T) {
	if os.Getenv("ENVWRAP_VAULTDEV") == "" {
		t.Skip(vaulttest.Skip)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	dir := t.TempDir()
	writeManifest(t, dir, "version: 1\nsecrets:\n  - {from: 'vault://secret/app#k', env: A}\n")
	out := filepath.Join(dir, "report.json")
	args := append([]string{"--fetch-timeout", "2s", "--log-level", "debug"},
		childArgs("report", out)...)
	res := envwrap(t, dir, []string{"VAULT_ADDR=" + addr, "VAULT_TOKEN=canary-token"},
		args...)
	if res.code == 0 || !strings.Contains(res.stderr, addr) {
		t.Errorf("exit %d, want non-zero naming %s:\n%s", res.code, addr, res.stderr)
	}
	if strings.Contains(res.stderr, "canary-token") {
		t.Errorf("the token is in the output:\n%s", res.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("the child started")
	}
}
