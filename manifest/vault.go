package manifest

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Vault configures the vault:// backend. Without a vault section the
// address comes from $VAULT_ADDR and the token from $VAULT_TOKEN.
type Vault struct {
	// Address is Vault's URL; "" means $VAULT_ADDR. It must start with
	// http:// or https://: envwrap does not guess a scheme.
	Address   string
	Namespace string
	Timeout   time.Duration // per request; 0 means the backend's default
	TLS       VaultTLS
	Auth      VaultAuth
	// RevokeOnExit revokes the leases of the secrets fetched when envwrap
	// exits.
	RevokeOnExit bool
}

// VaultTLS configures the connection to an https:// address. Relative
// paths are relative to the manifest's directory.
type VaultTLS struct {
	CAFile     string
	ClientCert string
	ClientKey  string
	ServerName string
	SkipVerify bool
}

// VaultAuth says how envwrap logs in to Vault. Relative paths are
// relative to the manifest's directory.
type VaultAuth struct {
	Method    string // VaultToken (the default), VaultAppRole or VaultJWT
	TokenFile string // "" means $VAULT_TOKEN
	// RoleIDFile and SecretIDFile, for AppRole; "" means $VAULT_ROLE_ID
	// and $VAULT_SECRET_ID.
	RoleIDFile      string
	SecretIDFile    string
	WrappedSecretID bool   // the secret id is a response-wrapping token
	Mount           string // the auth method's mount; "" means its name
	// Role and JWTFile, for JWT: the Vault role, and a file holding the
	// token (read again at every login, as issuers rotate it).
	Role    string
	JWTFile string
}

// The auth methods vault.auth.method accepts.
const (
	VaultToken   = "token"
	VaultAppRole = "approle"
	VaultJWT     = "jwt"
	// VaultKubernetes logs in with the pod's service account token.
	VaultKubernetes = "kubernetes"
)

// DefaultServiceAccountToken is where Kubernetes mounts a pod's token.
const DefaultServiceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token"

var vaultMethods = []string{VaultToken, VaultAppRole, VaultJWT, VaultKubernetes}

func (c *collector) vault(v *Vault, top map[string]field) {
	v.Auth.Method = VaultToken
	f, ok := top["vault"]
	if !ok {
		return
	}
	fs := c.mapping(f.val, "vault", "address", "namespace", "timeout", "tls", "auth",
		"revoke_on_exit")
	if a, ok := fs["address"]; ok {
		v.Address, _ = c.vaultAddress(a)
	}
	if n, ok := fs["namespace"]; ok {
		v.Namespace, _ = c.nonEmpty(n)
	}
	if t, ok := fs["timeout"]; ok {
		v.Timeout, _ = c.duration(t)
	}
	if t, ok := fs["tls"]; ok {
		c.vaultTLS(&v.TLS, t)
	}
	if a, ok := fs["auth"]; ok {
		c.vaultAuth(&v.Auth, a)
	}
	if r, ok := fs["revoke_on_exit"]; ok {
		v.RevokeOnExit, _ = c.boolean(r)
	}
}

// vaultAddress accepts an http:// or https:// URL with a host.
func (c *collector) vaultAddress(f field) (string, bool) {
	s, ok := c.nonEmpty(f)
	if !ok {
		return "", false
	}
	u, err := url.Parse(s)
	switch {
	case err == nil && u.User != nil:
		// Not echoed: a password may be in it.
		c.at(f.val, f.path, "must not carry a user or password; use vault.auth")
		return "", false
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.at(f.val, f.path, "want a URL starting with http:// or https://, such as "+
			"https://vault.example.com:8200, got %q", s)
		return "", false
	case u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
		c.at(f.val, f.path, "want only scheme, host and port, such as "+
			"https://vault.example.com:8200; paths go in vault:// references")
		return "", false
	}
	return s, true
}

func (c *collector) vaultTLS(t *VaultTLS, f field) {
	fs := c.mapping(f.val, f.path, "ca_file", "client_cert", "client_key", "server_name",
		"skip_verify")
	for key, dst := range map[string]*string{"ca_file": &t.CAFile,
		"client_cert": &t.ClientCert, "client_key": &t.ClientKey,
		"server_name": &t.ServerName} {
		if v, ok := fs[key]; ok {
			*dst, _ = c.nonEmpty(v)
		}
	}
	if v, ok := fs["skip_verify"]; ok {
		t.SkipVerify, _ = c.boolean(v)
	}
	cert, hasCert := fs["client_cert"]
	key, hasKey := fs["client_key"]
	switch {
	case hasCert && !hasKey:
		c.at(cert.key, cert.path, "needs client_key beside it")
	case hasKey && !hasCert:
		c.at(key.key, key.path, "needs client_cert beside it")
	}
}

// vaultAuthKeys lists the keys each method takes besides method.
var vaultAuthKeys = map[string][]string{
	VaultToken:   {"token_file"},
	VaultAppRole: {"role_id_file", "secret_id_file", "wrapped_secret_id", "mount"},
	VaultJWT:     {"role", "jwt_file", "mount"},
	// jwt_file defaults to the service account token for kubernetes.
	VaultKubernetes: {"role", "jwt_file", "mount"},
}

func (c *collector) vaultAuth(a *VaultAuth, f field) {
	fs := c.mapping(f.val, f.path, "method", "token_file", "role_id_file",
		"secret_id_file", "wrapped_secret_id", "mount", "role", "jwt_file")
	if fs == nil {
		return
	}
	if m, ok := fs["method"]; ok {
		if !c.vaultMethod(a, m) {
			return
		}
	}
	for key, v := range fs {
		if key != "method" && !slices.Contains(vaultAuthKeys[a.Method], key) {
			c.at(v.key, v.path, "does not apply to auth method %s; it takes: %s",
				a.Method, strings.Join(vaultAuthKeys[a.Method], ", "))
		}
	}
	for key, dst := range map[string]*string{"token_file": &a.TokenFile,
		"role_id_file": &a.RoleIDFile, "secret_id_file": &a.SecretIDFile,
		"mount": &a.Mount, "role": &a.Role, "jwt_file": &a.JWTFile} {
		if v, ok := fs[key]; ok {
			*dst, _ = c.nonEmpty(v)
		}
	}
	if v, ok := fs["wrapped_secret_id"]; ok {
		a.WrappedSecretID, _ = c.boolean(v)
	}
	c.jwtKeys(a, f, fs)
}

// jwtKeys checks what the jwt and kubernetes methods need.
func (c *collector) jwtKeys(a *VaultAuth, f field, fs map[string]field) {
	switch a.Method {
	case VaultJWT:
		for _, key := range []string{"role", "jwt_file"} {
			if _, ok := fs[key]; !ok {
				c.at(f.val, f.path+"."+key, "is required for auth method jwt")
			}
		}
	case VaultKubernetes:
		if _, ok := fs["role"]; !ok {
			c.at(f.val, f.path+".role", "is required for auth method kubernetes")
		}
		if a.JWTFile == "" {
			a.JWTFile = DefaultServiceAccountToken
		}
	}
}

func (c *collector) vaultMethod(a *VaultAuth, f field) bool {
	s, ok := c.str(f)
	if !ok {
		return false
	}
	if !slices.Contains(vaultMethods, s) {
		c.at(f.val, f.path, "%q is not supported in this release; use one of: %s",
			s, strings.Join(vaultMethods, ", "))
		return false
	}
	a.Method = s
	return true
}
