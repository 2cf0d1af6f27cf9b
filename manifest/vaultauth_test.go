package manifest

import (
	"strings"
	"testing"
)

func TestVaultJWTAuth(t *testing.T) {
	m, err := Parse("envwrap.yaml", []byte(`version: 1
vault:
  address: http://127.0.0.1:8200
  auth: {method: jwt, role: ci, jwt_file: /run/ci/token, mount: gitlab}
`))
	if err != nil {
		t.Fatal(err)
	}
	a := m.Vault.Auth
	if a.Method != VaultJWT || a.Role != "ci" || a.JWTFile != "/run/ci/token" || a.Mount != "gitlab" {
		t.Errorf("auth = %+v", a)
	}
	m, err = Parse("envwrap.yaml", []byte("version: 1\nvault:\n  address: "+
		"http://127.0.0.1:8200\n  auth: {method: kubernetes, role: app}\n"))
	if err != nil || m.Vault.Auth.JWTFile != DefaultServiceAccountToken {
		t.Errorf("kubernetes auth reads %q (%v), want the service account token",
			m.Vault.Auth.JWTFile, err)
	}
	cases := map[string]string{
		"{method: kubernetes}": "vault.auth.role: is required for auth method kubernetes",
		"{method: jwt, jwt_file: /t}": "envwrap.yaml:4:9: vault.auth.role: is required " +
			"for auth method jwt",
		"{method: jwt, role: ci}": "vault.auth.jwt_file: is required for auth method jwt",
		"{method: approle, role: ci}": "vault.auth.role: does not apply to auth method " +
			"approle",
	}
	for auth, want := range cases {
		_, err := Parse("envwrap.yaml", []byte("version: 1\nvault:\n  address: "+
			"http://127.0.0.1:8200\n  auth: "+auth+"\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %v\nwant %q", auth, err, want)
		}
	}
}

func TestVaultAddressAndPaths(t *testing.T) {
	cases := map[string]string{
		"vault: {address: \"http://u:pw-canary@127.0.0.1:8200\"}\n": "vault.address: must not " +
			"carry a user or password",
		"vault: {address: \"http://127.0.0.1:8200?x=1\"}\n": "vault.address: want only " +
			"scheme, host and port",
		"vault: {address: \"http://127.0.0.1:8200/v1/secret\"}\n": "want only scheme",
		"secrets:\n  - {env: A, from: \"vault://secret/../kv1/x#k\"}\n": "vault paths take " +
			"no empty, . or .. segments",
		"secrets:\n  - {env: A, from: \"vault://secret//app#k\"}\n": "no empty",
		"secrets:\n  - {env: A, from: \"vault://secret/app/#k\"}\n": "no empty",
		"secrets:\n  - {env: A, from: \"vault:///secret/app#k\"}\n": "no empty",
	}
	for body, want := range cases {
		_, err := Parse("envwrap.yaml", []byte("version: 1\n"+body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %q", body, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw-canary") {
			t.Errorf("the error echoes the address's password: %v", err)
		}
	}
}
