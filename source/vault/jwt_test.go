package vault

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envwrap/envwrap/source/vault/vaulttest"
)

// signJWT makes an ES256 token with the standard library alone: a JWT is
// two base64url JSON parts and the signature of both.
func signJWT(t *testing.T, key *ecdsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	part := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := part(map[string]string{"alg": "ES256", "typ": "JWT"}) + "." + part(claims)
	sum := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// trustKey mounts Vault's jwt method at mount, trusting a new key of the
// test's for tokens with audience aud under role, and returns the key.
func trustKey(t *testing.T, v *vaulttest.Server, mount, role, aud string) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	v.Do(t, "POST", "sys/auth/"+mount, map[string]string{"type": "jwt"})
	v.Do(t, "POST", "auth/"+mount+"/config",
		map[string]any{"jwt_validation_pubkeys": []string{pub}})
	v.Do(t, "PUT", "sys/policies/acl/reader", map[string]string{
		"policy": `path "secret/*" { capabilities = ["read"] }`})
	v.Do(t, "POST", "auth/"+mount+"/role/"+role, map[string]any{"role_type": "jwt",
		"user_claim": "sub", "bound_audiences": []string{aud},
		"token_policies": []string{"reader"}})
	v.Do(t, "POST", "secret/data/app", map[string]any{"data": map[string]string{"k": canaryJWT}})
	return key
}

// TestVaultJWTLogin configures Vault's jwt auth with a key of the test's,
// presents a token signed with it from a file, and reads a secret.
func TestVaultJWTLogin(t *testing.T) {
	v := vaulttest.Start(t)
	key := trustKey(t, v, "jwt", "ci", "envwrap-test")
	now := time.Now().Unix()
	token := signJWT(t, key, map[string]any{"sub": "build-42", "aud": "envwrap-test",
		"iat": now, "nbf": now - 5, "exp": now + 600})
	jwtFile := filepath.Join(t.TempDir(), "token")
	write(t, jwtFile, token)

	s, logs := newSource(t, Config{Address: v.Addr, Auth: Auth{Method: MethodJWT,
		Role: "ci", JWTFile: jwtFile}})
	if got := field(t, s, "vault://secret/app#k"); got != canaryJWT {
		t.Errorf("read %q after a jwt login", got)
	}
	for _, leak := range []string{token, canaryJWT, s.client.Token()} {
		if strings.Contains(logs.String(), leak) {
			t.Fatalf("the logs hold a token or a value:\n%s", logs)
		}
	}

	// A token for another audience is refused, naming the method and role.
	wrong := filepath.Join(t.TempDir(), "wrong")
	write(t, wrong, signJWT(t, key, map[string]any{"sub": "x", "aud": "elsewhere",
		"iat": now, "exp": now + 600}))
	_, err := New(t.Context(), Config{Address: v.Addr, Auth: Auth{Method: MethodJWT,
		Role: "ci", JWTFile: wrong}})
	if err == nil || !strings.Contains(err.Error(), "log in with jwt") ||
		!strings.Contains(err.Error(), "role ci") {
		t.Errorf("a token for another audience: %v", err)
	}
}

const canaryJWT = "canary-jwt-4b7e"

// TestVaultKubernetesLogin checks what envwrap sends for the kubernetes
// method: the service account token from its file, with the role, to
// auth/kubernetes/login. Vault's kubernetes method would check that token
// with the cluster's TokenReview API, and no cluster runs here; Vault's
// jwt method takes the same login request, so it is mounted at the
// kubernetes path and trusts the test's key in the cluster's place.
func TestVaultKubernetesLogin(t *testing.T) {
	v := vaulttest.Start(t)
	key := trustKey(t, v, "kubernetes", "api", "vault")
	now := time.Now().Unix()
	tokenFile := filepath.Join(t.TempDir(), "token")
	write(t, tokenFile, signJWT(t, key, map[string]any{
		"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:shop:api",
		"aud": "vault", "iat": now, "exp": now + 600}))

	s, _ := newSource(t, Config{Address: v.Addr, Auth: Auth{Method: MethodKubernetes,
		Role: "api", JWTFile: tokenFile}})
	if got := field(t, s, "vault://secret/app#k"); got != canaryJWT {
		t.Errorf("read %q after a kubernetes login", got)
	}
}
