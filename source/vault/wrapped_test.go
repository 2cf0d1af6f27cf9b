package vault

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source/vault/vaulttest"
)

// TestVaultAppRoleWrappedSecretID logs in with a secret id delivered
// response-wrapped, as an orchestrator hands it out: envwrap unwraps it
// once and logs in with what was inside.
func TestVaultAppRoleWrappedSecretID(t *testing.T) {
	v := vaulttest.Start(t)
	v.Do(t, "POST", "secret/data/app", map[string]any{"data": map[string]string{"k": canaryJWT}})
	roleFile, _ := appRole(t, v, "1h", "2h")

	client, err := api.NewClient(&api.Config{Address: v.Addr})
	if err != nil {
		t.Fatal(err)
	}
	client.SetToken(v.RootToken)
	client.SetWrappingLookupFunc(func(string, string) string { return "120s" })
	wrapped, err := client.Logical().Write("auth/approle/role/app/secret-id", nil)
	if err != nil || wrapped.WrapInfo == nil {
		t.Fatalf("wrapping a secret id: %v", err)
	}
	sidFile := filepath.Join(t.TempDir(), "wrapped_secret_id")
	write(t, sidFile, wrapped.WrapInfo.Token)

	s, logs := newSource(t, Config{Address: v.Addr, Auth: Auth{Method: MethodAppRole,
		RoleIDFile: roleFile, SecretIDFile: sidFile, WrappedSecretID: true}})
	if got := field(t, s, "vault://secret/app#k"); got != canaryJWT {
		t.Errorf("read %q after a login with a wrapped secret id", got)
	}
	if containsAny(logs.String(), wrapped.WrapInfo.Token, canaryJWT) {
		t.Fatalf("the wrapping token or a value is in the logs:\n%s", logs)
	}

	// A wrapping token unwraps once: a second login with it is refused.
	_, err = New(t.Context(), Config{Address: v.Addr, Auth: Auth{Method: MethodAppRole,
		RoleIDFile: roleFile, SecretIDFile: sidFile, WrappedSecretID: true}})
	if err == nil {
		t.Error("a used wrapping token logged in again")
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestVaultHTTPSAgainstHTTPFailsAtOnce: https:// to a plain-http Vault
// cannot start working by trying again, so it is not retried.
func TestVaultHTTPSAgainstHTTPFailsAtOnce(t *testing.T) {
	v := vaulttest.Start(t)
	addr := "https://" + strings.TrimPrefix(v.Addr, "http://")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := New(ctx, Config{Address: addr,
		Auth: Auth{Method: MethodToken, Token: secret.FromString(v.RootToken)}})
	if err == nil || !strings.Contains(err.Error(), "HTTP response to HTTPS client") {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %v; want at once", took)
	}
	if strings.Contains(err.Error(), v.RootToken) {
		t.Error("the error holds the token")
	}
}
