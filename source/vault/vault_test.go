package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/vault/vaulttest"
)

// values are stored in KV and must come back byte for byte.
var values = map[string]string{
	"tok":    "tok\n",
	"eq":     "a=b==",
	"dash":   "--k3y",
	"utf8":   "héllo ✓",
	"dollar": "$HOME",
	"quotes": `it's "quoted"`,
}

// kvBody is values as a KV write, with a number whose digits must stay.
const number = `12345678901234567890.000100`

func kvBody(wrap bool) string {
	var b strings.Builder
	b.WriteString(`{"n":` + number)
	for k, v := range values {
		b.WriteString(`,"` + k + `":` + quote(v))
	}
	b.WriteString("}")
	if wrap {
		return `{"data":` + b.String() + "}"
	}
	return b.String()
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// logBuffer collects log lines from the Source's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newSource(t *testing.T, cfg Config) (*Source, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{
		Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, logs
}

func rootSource(t *testing.T, v *vaulttest.Server) (*Source, *logBuffer) {
	return newSource(t, Config{Address: v.Addr,
		Auth: Auth{Method: MethodToken, Token: secret.FromString(v.RootToken)}})
}

func ref(t *testing.T, raw string) source.Ref {
	t.Helper()
	r, err := source.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fetch(t *testing.T, s *Source, raw string) (source.Secret, error) {
	t.Helper()
	res := s.Fetch(context.Background(), []source.Ref{ref(t, raw)})
	return res[0].Secret, res[0].Err
}

func field(t *testing.T, s *Source, raw string) string {
	t.Helper()
	r := ref(t, raw)
	sec, err := fetch(t, s, raw)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	v, err := source.Field(sec.Value, r.Key)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v.Reveal()
}

func TestVaultKVValues(t *testing.T) {
	v := vaulttest.Start(t)
	v.Do(t, "POST", "secret/data/app", kvBody(true))
	v.Do(t, "POST", "kv1/app", kvBody(false))
	s, logs := rootSource(t, v)
	for _, base := range []string{"secret/app", "secret/data/app", "kv1/app"} {
		for k, want := range values {
			if got := field(t, s, "vault://"+base+"#"+k); got != want {
				t.Errorf("%s#%s = %q, want %q", base, k, got, want)
			}
		}
	}
	// KV v1 stores the number as written. KV v2 itself rounds it to a
	// float64 when it stores it; what envwrap must do is pass on Vault's
	// digits as Vault sends them.
	if got := field(t, s, "vault://kv1/app#n"); got != number {
		t.Errorf("kv1/app#n = %q, want %q", got, number)
	}
	raw := v.Do(t, "GET", "secret/data/app", nil)["data"].(map[string]any)["data"]
	sent := raw.(map[string]any)["n"].(json.Number).String()
	for _, r := range []string{"vault://secret/app#n", "vault://secret/data/app#n"} {
		if got := field(t, s, r); got != sent {
			t.Errorf("%s = %q, want %q as Vault sent it", r, got, sent)
		}
	}
	sec, err := fetch(t, s, "vault://secret/app")
	if err != nil || sec.Version != "1" {
		t.Errorf("version %q, err %v; want 1", sec.Version, err)
	}
	if strings.Contains(logs.String(), v.RootToken) {
		t.Errorf("the token is in the logs:\n%s", logs)
	}
}

func TestVaultKVVersions(t *testing.T) {
	v := vaulttest.Start(t)
	for _, val := range []string{"one", "two", "three", "four"} {
		v.Do(t, "POST", "secret/data/app", map[string]any{"data": map[string]string{"k": val}})
	}
	s, _ := rootSource(t, v)
	if got := field(t, s, "vault://secret/app?version=2#k"); got != "two" {
		t.Errorf("version 2 = %q", got)
	}
	if got := field(t, s, "vault://secret/data/app?version=4#k"); got != "four" {
		t.Errorf("version 4 = %q", got)
	}
	checkVersion(t, s, "vault://secret/app#k", "4")
	v.Do(t, "POST", "secret/data/app", map[string]any{"data": map[string]string{"k": "five"}})
	checkVersion(t, s, "vault://secret/app#k", "5")
	checkVersion(t, s, "vault://secret/app?version=2#k", "2")
	v.Do(t, "POST", "kv1/x", map[string]string{"k": "v"})
	checkVersion(t, s, "vault://kv1/x#k", "")

	v.Do(t, "POST", "secret/delete/app", map[string]any{"versions": []int{1}})
	v.Do(t, "POST", "secret/destroy/app", map[string]any{"versions": []int{3}})
	wantGone(t, s, "vault://secret/app?version=1#k", "version 1 was deleted at")
	wantGone(t, s, "vault://secret/app?version=3#k", "version 3 was destroyed")
	v.Do(t, "DELETE", "secret/data/app", nil) // the current version, 5
	wantGone(t, s, "vault://secret/app#k", "version 5 was deleted at")
}

func TestVaultKVFutureDeletion(t *testing.T) {
	v := vaulttest.Start(t)
	v.Do(t, "POST", "secret/metadata/app", map[string]any{"delete_version_after": "1h"})
	v.Do(t, "POST", "secret/data/app", map[string]any{"data": map[string]string{"k": "soon"}})
	s, _ := rootSource(t, v)
	if got := field(t, s, "vault://secret/app#k"); got != "soon" {
		t.Errorf("got %q, want soon: a deletion time in the future must not count", got)
	}
}

func checkVersion(t *testing.T, s *Source, raw, want string) {
	t.Helper()
	got := s.Versions(context.Background(), []source.Ref{ref(t, raw)})[0]
	if got.Err != nil || got.ID != want {
		t.Errorf("%s: version %q, err %v; want %q", raw, got.ID, got.Err, want)
	}
}

func wantGone(t *testing.T, s *Source, raw, msg string) {
	t.Helper()
	_, err := fetch(t, s, raw)
	if err == nil || !strings.Contains(err.Error(), msg) ||
		!strings.Contains(err.Error(), "secret/data/app") || !source.IsPermanent(err) {
		t.Errorf("%s: got %v; want a permanent error naming the path and %q", raw, err, msg)
	}
}

func TestVaultMissingPath(t *testing.T) {
	v := vaulttest.Start(t)
	s, _ := rootSource(t, v)
	for _, raw := range []string{"vault://secret/nope", "vault://kv1/nope"} {
		_, err := fetch(t, s, raw)
		if !errors.Is(err, source.ErrNotFound) || !source.IsPermanent(err) ||
			!strings.Contains(err.Error(), "nope") ||
			!strings.Contains(err.Error(), v.Addr) {
			t.Errorf("%s: got %v; want a permanent not-found error naming path and address",
				raw, err)
		}
	}
}

// appRole creates a policy that reads secret/*, a role with the given
// token TTLs, and files holding its role id and a secret id.
func appRole(t *testing.T, v *vaulttest.Server, ttl, maxTTL string) (string, string) {
	t.Helper()
	v.Do(t, "PUT", "sys/policies/acl/reader", map[string]string{
		"policy": `path "secret/*" { capabilities = ["read"] }`})
	v.Do(t, "POST", "auth/approle/role/app", map[string]any{"token_policies": "reader",
		"token_ttl": ttl, "token_max_ttl": maxTTL})
	role := v.Do(t, "GET", "auth/approle/role/app/role-id", nil)
	sid := v.Do(t, "POST", "auth/approle/role/app/secret-id", nil)
	dir := t.TempDir()
	roleFile, sidFile := filepath.Join(dir, "role_id"), filepath.Join(dir, "secret_id")
	write(t, roleFile, role["data"].(map[string]any)["role_id"].(string))
	write(t, sidFile, sid["data"].(map[string]any)["secret_id"].(string))
	return roleFile, sidFile
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A token whose max TTL is 12s is replaced by a fresh login before it
// expires, and reads go on working throughout.
func TestVaultAppRoleRelogin(t *testing.T) {
	v := vaulttest.Start(t)
	v.Do(t, "POST", "secret/data/app", map[string]any{"data": map[string]string{"k": "v"}})
	roleFile, sidFile := appRole(t, v, "4s", "12s")
	s, logs := newSource(t, Config{Address: v.Addr, Auth: Auth{Method: MethodAppRole,
		RoleIDFile: roleFile, SecretIDFile: sidFile}})
	tokens := map[string]bool{s.client.Token(): true}
	deadline := time.Now().Add(26 * time.Second)
	for time.Now().Before(deadline) {
		if got := field(t, s, "vault://secret/app#k"); got != "v" {
			t.Fatalf("got %q", got)
		}
		tokens[s.client.Token()] = true
		time.Sleep(250 * time.Millisecond)
	}
	if len(tokens) < 3 {
		t.Errorf("saw %d tokens in 26s with a 12s max TTL; want at least 3", len(tokens))
	}
	for tok := range tokens {
		if strings.Contains(logs.String(), tok) {
			t.Fatalf("a token is in the logs:\n%s", logs)
		}
	}
	if !strings.Contains(logs.String(), "logged in again") {
		t.Errorf("no re-login logged:\n%s", logs)
	}
}

func TestVaultAppRoleDenied(t *testing.T) {
	v := vaulttest.Start(t)
	roleFile, _ := appRole(t, v, "1m", "1h")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := New(ctx, Config{Address: v.Addr, Auth: Auth{Method: MethodAppRole,
		RoleIDFile: roleFile, SecretID: secret.FromString("canary-not-a-secret-id")}})
	if err == nil || !source.IsPermanent(err) || strings.Contains(err.Error(), "canary") {
		t.Errorf("got %v; want a permanent error without the secret id", err)
	}
}

// Vault unreachable at start: the login is retried until ctx ends, and
// the error names the address.
func TestVaultUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	logs := &logBuffer{}
	_, err = New(ctx, Config{Address: addr, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Auth: Auth{Token: secret.FromString("canary-token")}})
	if err == nil || !strings.Contains(err.Error(), addr) ||
		strings.Contains(err.Error(), "canary") {
		t.Fatalf("got %v; want an error naming %s", err, addr)
	}
	if strings.Contains(logs.String(), "canary") {
		t.Errorf("the token is in the logs:\n%s", logs)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("gave up after %v; want retries until the deadline", took)
	}
}

func TestVaultAddressNeedsScheme(t *testing.T) {
	_, err := New(context.Background(), Config{Address: "127.0.0.1:8200"})
	if err == nil || !strings.Contains(err.Error(), "http:// or https://") {
		t.Errorf("got %v", err)
	}
}
