// Package vault is the HashiCorp Vault backend. It serves vault://
// references: a KV v1 or v2 path (on v2 both secret/app and
// secret/data/app name the same secret; ?version=N pins a v2 version) or
// any other logical read path, such as database/creds/app, whose answer
// may carry a lease. Every value is the path's data as a JSON object, so
// #key picks a field and env maps and prefixes pick several.
//
// The Source logs in once (token or AppRole), keeps its own token alive
// in the background and logs in again before the token's max TTL. Its
// token never appears in logs or errors; neither does any value.
package vault

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
)

var (
	_ source.Source  = (*Source)(nil)
	_ source.Checker = (*Source)(nil)
	_ source.Renewer = (*Source)(nil)
)

// The auth methods this backend can log in with.
const (
	MethodToken   = "token"
	MethodAppRole = "approle"
	MethodJWT     = "jwt"
	// MethodKubernetes presents the pod's service account token; Vault
	// checks it with the cluster's TokenReview API.
	MethodKubernetes = "kubernetes"
)

// Config says where Vault is and how to log in.
type Config struct {
	// Address is Vault's URL, starting with http:// or https://.
	Address   string
	Namespace string        // "" means the root namespace
	Timeout   time.Duration // per request; 0 means 30s
	TLS       TLS
	Auth      Auth
	Logger    *slog.Logger // nil means slog.Default()
}

// TLS configures the connection to an https:// address.
type TLS struct {
	CAFile     string // PEM bundle to trust instead of the system's
	ClientCert string // PEM certificate presented to Vault
	ClientKey  string // its key
	ServerName string // name to verify instead of the address's host
	SkipVerify bool   // accept any certificate; for tests only
}

// Auth says how the Source gets its token. A file is read again at every
// login, so that a token or secret id rotated on disk is picked up.
type Auth struct {
	Method string // MethodToken, MethodAppRole or MethodJWT

	Token     secret.Value // the token, when TokenFile is ""
	TokenFile string

	RoleID       secret.Value // when RoleIDFile is ""
	RoleIDFile   string
	SecretID     secret.Value // when SecretIDFile is ""
	SecretIDFile string
	// WrappedSecretID says the secret id is a response-wrapping token to
	// unwrap first.
	WrappedSecretID bool
	Mount           string // the method's mount; "" means "approle" or "jwt"

	Role    string // JWT: the Vault role
	JWTFile string // JWT: a file holding the token, read at every login
}

// Source reads secrets from one Vault server.
type Source struct {
	cfg    Config
	client *api.Client
	log    *slog.Logger

	mountMu sync.Mutex
	mounts  []mount // KV and other mounts seen so far, looked up once each

	leaseMu sync.Mutex
	leases  map[string]heldLease // issued to this Source and not run out, by id

	stop    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

// New connects to Vault and logs in, retrying failures that may pass
// (Vault unreachable or sealed) with backoff until ctx ends. It then keeps
// the token alive in the background until Close.
func New(ctx context.Context, cfg Config) (*Source, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault: %s: %w", cfg.Address, err)
	}
	s := &Source{cfg: cfg, client: client, log: cfg.Logger,
		leases: make(map[string]heldLease), stop: make(chan struct{})}
	auth, err := s.loginRetrying(ctx)
	if err != nil {
		return nil, err
	}
	s.stopped.Add(1)
	go s.keepToken(auth)
	return s, nil
}

// newClient makes an API client that takes nothing from the environment:
// the api package reads VAULT_TOKEN, VAULT_NAMESPACE and others on its
// own, and the manifest, not those, says what envwrap uses.
func newClient(cfg Config) (*api.Client, error) {
	if !strings.HasPrefix(cfg.Address, "http://") &&
		!strings.HasPrefix(cfg.Address, "https://") {
		return nil, errors.New("the address must start with http:// or https://")
	}
	if u, err := url.Parse(cfg.Address); err != nil || u.User != nil {
		// Not echoed: a password may be in it.
		return nil, errors.New("the address must be a URL without a user or password")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	c := &api.Config{
		Address: cfg.Address,
		HttpClient: &http.Client{Transport: transport, Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			}},
		Timeout:    timeout,
		MaxRetries: 0, // the resolver and the login loop retry, with a bound
	}
	err := c.ConfigureTLS(&api.TLSConfig{CACert: cfg.TLS.CAFile,
		ClientCert: cfg.TLS.ClientCert, ClientKey: cfg.TLS.ClientKey,
		TLSServerName: cfg.TLS.ServerName, Insecure: cfg.TLS.SkipVerify})
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	client, err := api.NewClient(c)
	if err != nil {
		return nil, err
	}
	client.ClearToken()
	client.ClearNamespace()
	if cfg.Namespace != "" {
		client.SetNamespace(cfg.Namespace)
	}
	return client, nil
}

// Batches puts every reference in a batch of its own; the resolver runs
// them concurrently.
func (s *Source) Batches(refs []source.Ref) [][]source.Ref {
	batches := make([][]source.Ref, len(refs))
	for i, ref := range refs {
		batches[i] = []source.Ref{ref}
	}
	return batches
}

// Fetch reads each reference's path. Its errors start with "vault: " and
// name the path and the address, never a value or the token.
func (s *Source) Fetch(ctx context.Context, refs []source.Ref) []source.Result {
	results := make([]source.Result, len(refs))
	for i, ref := range refs {
		sec, err := s.fetch(ctx, ref)
		results[i] = source.Result{Secret: sec, Err: err}
	}
	return results
}

func (s *Source) fetch(ctx context.Context, ref source.Ref) (source.Secret, error) {
	m, err := s.mountOf(ctx, ref.Locator)
	if err != nil {
		return source.Secret{}, err
	}
	switch m.kv {
	case 2:
		return s.readKV2(ctx, ref, m)
	case 1:
		return s.readKV1(ctx, ref)
	}
	return s.readLogical(ctx, ref)
}

// Close stops the token's renewal. It is safe to call twice. Leases are
// left to run out unless RevokeAll was called first.
func (s *Source) Close() {
	s.once.Do(func() {
		close(s.stop)
		s.stopped.Wait()
	})
}

// fail builds the error of an operation on path: "vault: read PATH at
// ADDR: ...", classified as permanent or not.
func (s *Source) fail(op, path string, err error) error {
	return classify(fmt.Sprintf("%s %s at %s", op, path, s.cfg.Address), err)
}
