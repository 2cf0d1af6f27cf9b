package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
)

// login gets a token by the configured method and makes it the client's,
// replacing the old one only once the new one is known to work, so that
// reads never go without a valid token.
func (s *Source) login(ctx context.Context) (*api.Secret, error) {
	var (
		auth *api.Secret
		err  error
	)
	switch s.cfg.Auth.Method {
	case MethodToken, "":
		auth, err = s.tokenLogin(ctx)
	case MethodAppRole:
		auth, err = s.appRoleLogin(ctx)
	case MethodJWT, MethodKubernetes:
		auth, err = s.jwtLogin(ctx)
	default:
		return nil, source.Permanent(fmt.Errorf("vault: auth method %q is not supported; "+
			"use token, approle, jwt or kubernetes", s.cfg.Auth.Method))
	}
	if err != nil {
		return nil, err
	}
	s.client.SetToken(auth.Auth.ClientToken)
	return auth, nil
}

// fresh returns a client like s.client with no token, for trying a new
// token without disturbing the reads in flight.
func (s *Source) fresh() (*api.Client, error) {
	c, err := s.client.Clone()
	if err != nil {
		return nil, err
	}
	c.ClearToken()
	if s.cfg.Namespace != "" {
		c.SetNamespace(s.cfg.Namespace)
	}
	return c, nil
}

// tokenLogin takes the token as given and asks Vault what it is, to learn
// whether it can be renewed and when it expires.
func (s *Source) tokenLogin(ctx context.Context) (*api.Secret, error) {
	what := "log in with a token at " + s.cfg.Address
	tok, err := readCredential(s.cfg.Auth.Token, s.cfg.Auth.TokenFile, "VAULT_TOKEN")
	if err != nil {
		return nil, source.Permanent(fmt.Errorf("vault: %s: %w", what, err))
	}
	c, err := s.fresh()
	if err != nil {
		return nil, classify(what, err)
	}
	c.SetToken(tok)
	self, err := c.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, classify(what, err)
	}
	ttl, renewable := tokenLife(self)
	return &api.Secret{Auth: &api.SecretAuth{ClientToken: tok, Renewable: renewable,
		LeaseDuration: ttl}}, nil
}

// tokenLife reads ttl (seconds; 0 means no expiry) and renewable from a
// lookup-self answer.
func tokenLife(self *api.Secret) (int, bool) {
	if self == nil {
		return 0, false
	}
	var ttl int
	if n, ok := self.Data["ttl"].(json.Number); ok {
		v, _ := n.Int64()
		ttl = int(v)
	}
	renewable, _ := self.Data["renewable"].(bool)
	return ttl, renewable
}

func (s *Source) appRoleLogin(ctx context.Context) (*api.Secret, error) {
	a := s.cfg.Auth
	what := "log in with approle at " + s.cfg.Address
	roleID, err := readCredential(a.RoleID, a.RoleIDFile, "VAULT_ROLE_ID")
	if err != nil {
		return nil, source.Permanent(fmt.Errorf("vault: %s: %w", what, err))
	}
	secretID, err := readCredential(a.SecretID, a.SecretIDFile, "VAULT_SECRET_ID")
	if err != nil {
		return nil, source.Permanent(fmt.Errorf("vault: %s: %w", what, err))
	}
	opts := []approle.LoginOption{approle.WithMountPath(mountOr(a.Mount, "approle"))}
	if a.WrappedSecretID {
		opts = append(opts, approle.WithWrappingToken())
	}
	method, err := approle.NewAppRoleAuth(roleID, &approle.SecretID{FromString: secretID},
		opts...)
	if err != nil {
		return nil, source.Permanent(fmt.Errorf("vault: %s: %w", what, err))
	}
	c, err := s.fresh()
	if err != nil {
		return nil, classify(what, err)
	}
	auth, err := method.Login(ctx, c)
	if err != nil {
		return nil, classify(what, err)
	}
	if auth == nil || auth.Auth == nil || auth.Auth.ClientToken == "" {
		return nil, fmt.Errorf("vault: %s: the answer holds no token", what)
	}
	return auth, nil
}

// jwtLogin presents the token in JWTFile for Role, to the jwt method or
// to the kubernetes one, which take the same request. The file is read at
// every login: its issuer (a CI system, the kubelet) rotates it.
func (s *Source) jwtLogin(ctx context.Context) (*api.Secret, error) {
	a := s.cfg.Auth
	mount := mountOr(a.Mount, a.Method)
	what := fmt.Sprintf("log in with %s at %s (auth/%s, role %s)",
		a.Method, s.cfg.Address, mount, a.Role)
	jwt, err := readCredential(secret.Value{}, a.JWTFile, "")
	if err != nil {
		return nil, source.Permanent(fmt.Errorf("vault: %s: %w", what, err))
	}
	c, err := s.fresh()
	if err != nil {
		return nil, classify(what, err)
	}
	auth, err := c.Logical().WriteWithContext(ctx, "auth/"+mount+"/login",
		map[string]any{"role": a.Role, "jwt": jwt})
	if err != nil {
		return nil, classify(what, err)
	}
	if auth == nil || auth.Auth == nil || auth.Auth.ClientToken == "" {
		return nil, fmt.Errorf("vault: %s: the answer holds no token", what)
	}
	return auth, nil
}

func mountOr(m, def string) string {
	if m == "" {
		return def
	}
	return strings.Trim(m, "/")
}

// readCredential returns the file's contents, trimmed, or else the value.
// env names where the value came from, for the error when both are empty.
func readCredential(v secret.Value, file, env string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
		return "", fmt.Errorf("%s is empty", file)
	}
	if s := strings.TrimSpace(v.Reveal()); s != "" {
		return s, nil
	}
	return "", fmt.Errorf("no credential: set $%s or name a file in the manifest", env)
}

// loginRetrying logs in, retrying with backoff what may pass (Vault
// unreachable, sealed, 5xx) until ctx ends.
func (s *Source) loginRetrying(ctx context.Context) (*api.Secret, error) {
	for attempt := 0; ; attempt++ {
		auth, err := s.login(ctx)
		if err == nil {
			s.log.Info("vault: logged in", "addr", s.cfg.Address,
				"method", s.method(), "ttl", ttl(auth).String())
			return auth, nil
		}
		if source.IsPermanent(err) {
			return nil, err
		}
		s.log.Warn("vault: login failed; retrying", "attempt", attempt+1, "err", err)
		if !sleep(ctx, nil, source.Backoff(attempt, 250*time.Millisecond, 5*time.Second)) {
			return nil, fmt.Errorf("gave up retrying (%w): %w", ctx.Err(), err)
		}
	}
}

func (s *Source) method() string {
	if s.cfg.Auth.Method == "" {
		return MethodToken
	}
	return s.cfg.Auth.Method
}

func ttl(auth *api.Secret) time.Duration {
	return time.Duration(auth.Auth.LeaseDuration) * time.Second
}

// sleep waits for d, and reports false if ctx ends or stop closes first.
func sleep(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	case <-t.C:
		return true
	}
}

var errCannotRelogin = errors.New("the token was given as a value or in a file that " +
	"still holds it, so envwrap cannot log in again; reads fail once it expires")
