// Command vaultdev runs a real Vault core on loopback for envwrap's tests.
//
// It is a test fixture only, never a Vault for anything else: storage is in
// memory, there is no TLS, and the root token and unseal key are printed.
// It lives in its own Go module so envwrap itself never links Vault.
//
// On start it initializes Vault with one key share, unseals it, mounts
// KV v2 at secret/ (as `vault server -dev` does), KV v1 at kv1/, the database
// secrets engine at database/ (with no connection: tests configure that),
// and enables the approle and userpass auth methods. When all of that works
// it prints one line of JSON to stdout, or writes it to -ready-file:
//
//	{"addr":"http://127.0.0.1:PORT","root_token":"...","unseal_key":"..."}
//
// It serves until SIGTERM or SIGINT, then stops the HTTP server and the core
// and exits 0.
//
// Sealing and restarting:
//
//   - Within one process, PUT /v1/sys/seal (root token) seals the core and
//     PUT /v1/sys/unseal {"key": unseal_key} unseals it again; the data is
//     still there, because the in-memory storage lives as long as the process.
//   - Storage is in memory (sdk/physical/inmem) and is LOST when the process
//     exits. A new process is a brand-new Vault: new unseal key, empty
//     mounts apart from the ones above, no secrets, no roles, and every token
//     and lease of the old process is unknown to it. A test that stops Vault
//     and starts it again must write its data again. To come back on the same
//     address, pass the old address with -addr; to keep the same root token,
//     pass -root-token.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	logicalDb "github.com/hashicorp/vault/builtin/logical/database"
	"github.com/hashicorp/vault/builtin/plugin"
	"github.com/hashicorp/vault/helper/namespace"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical/inmem"
	"github.com/hashicorp/vault/vault"
)

// ready is the line printed (or written to -ready-file) once Vault serves.
type ready struct {
	Addr      string `json:"addr"`
	RootToken string `json:"root_token"`
	UnsealKey string `json:"unseal_key"` // hex, as `vault operator init` prints it
}

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("vaultdev", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on; port 0 picks a free port")
	readyFile := fs.String("ready-file", "",
		"write the ready JSON to this file (mode 0600) instead of stdout")
	rootToken := fs.String("root-token", "", "use this root token instead of a generated one")
	logLevel := fs.String("log-level", "warn",
		"Vault log level on stderr: trace, debug, info, warn, error")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "vaultdev: unexpected arguments: %q\n", fs.Args())
		return 2
	}

	// Listen on loopback only: refuse anything else rather than expose a
	// Vault whose root token is printed.
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vaultdev: -addr %q: %v\n", *addr, err)
		return 2
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		fmt.Fprintf(os.Stderr, "vaultdev: -addr %q: host must be a 127.x.x.x address\n", *addr)
		return 2
	}

	// A stale file from an earlier run must not look like this run's.
	if *readyFile != "" {
		if err := os.Remove(*readyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "vaultdev: %v\n", err)
			return 1
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logger := hclog.New(&hclog.LoggerOptions{
		Name:   "vaultdev",
		Level:  hclog.LevelFromString(*logLevel),
		Output: os.Stderr,
	})

	ln, err := net.Listen("tcp4", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vaultdev: listen: %v\n", err)
		return 1
	}
	defer ln.Close()
	apiAddr := "http://" + ln.Addr().String()

	core, info, err := startCore(logger, apiAddr, *rootToken)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vaultdev: %v\n", err)
		return 1
	}

	srv := &http.Server{
		Handler: vaulthttp.Handler.Handler(&vault.HandlerProperties{
			Core: core,
			// The handler reads listener settings without a nil check;
			// zero values select Vault's defaults.
			ListenerConfig: &configutil.Listener{
				Type:       configutil.TCP,
				Address:    ln.Addr().String(),
				TLSDisable: true,
			},
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	if err := announce(info, *readyFile); err != nil {
		fmt.Fprintf(os.Stderr, "vaultdev: %v\n", err)
		shutdown(logger, srv, core)
		return 1
	}

	code := 0
	select {
	case <-ctx.Done():
		logger.Info("signal received, shutting down")
	case err := <-serveErr:
		fmt.Fprintf(os.Stderr, "vaultdev: serve: %v\n", err)
		code = 1
	}
	shutdown(logger, srv, core)
	return code
}

// startCore builds, initializes, unseals and populates the Vault core.
func startCore(logger hclog.Logger, apiAddr, rootToken string) (*vault.Core, *ready, error) {
	// In-memory storage: everything is gone when the process exits.
	storage, err := inmem.NewInmem(nil, logger.Named("storage"))
	if err != nil {
		return nil, nil, fmt.Errorf("storage: %w", err)
	}

	core, err := vault.NewCore(&vault.CoreConfig{
		Physical:     storage,
		StorageType:  "inmem",
		DisableMlock: true,
		Logger:       logger,
		RedirectAddr: apiAddr,
		// Factories Vault looks up by mount type before asking the plugin
		// catalog, as `vault server` has them.
		LogicalBackends: map[string]logical.Factory{
			"plugin":   plugin.Factory,
			"database": logicalDb.Factory,
			"kv":       registryKV,
		},
		CredentialBackends: map[string]logical.Factory{
			"plugin": plugin.Factory,
		},
		BuiltinRegistry: newRegistry(),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("new core: %w", err)
	}

	ctx := namespace.RootContext(context.Background())

	// One key share, threshold one. The Shamir seal keeps the root key
	// stored (StoredShares 1); the share printed is the unseal key.
	initRes, err := core.Initialize(ctx, &vault.InitParams{
		BarrierConfig: &vault.SealConfig{
			SecretShares:    1,
			SecretThreshold: 1,
			StoredShares:    1,
		},
	})
	if err != nil {
		core.Shutdown()
		return nil, nil, fmt.Errorf("initialize: %w", err)
	}
	if len(initRes.SecretShares) != 1 {
		core.Shutdown()
		return nil, nil, fmt.Errorf("initialize: got %d key shares, want 1", len(initRes.SecretShares))
	}
	unsealKey := hex.EncodeToString(initRes.SecretShares[0])

	key := make([]byte, len(initRes.SecretShares[0]))
	copy(key, initRes.SecretShares[0])
	unsealed, err := core.Unseal(key)
	if err != nil || !unsealed {
		core.Shutdown()
		return nil, nil, fmt.Errorf("unseal: unsealed=%v err=%v", unsealed, err)
	}

	token := initRes.RootToken
	if rootToken != "" {
		token, err = replaceRootToken(ctx, core, token, rootToken)
		if err != nil {
			core.Shutdown()
			return nil, nil, err
		}
	}

	if err := populate(ctx, core, token); err != nil {
		core.Shutdown()
		return nil, nil, err
	}

	return core, &ready{Addr: apiAddr, RootToken: token, UnsealKey: unsealKey}, nil
}

// registryKV is the KV factory, taken from the fixture's registry so both
// paths to it (mount type "kv" and the plugin catalog) are the same plugin.
var registryKV = newRegistry().secrets["kv"]

// request sends one request to the core as the given token and turns an
// error response into an error.
func request(ctx context.Context, core *vault.Core, token string, op logical.Operation,
	path string, data map[string]interface{}) (*logical.Response, error) {
	resp, err := core.HandleRequest(ctx, &logical.Request{
		Operation:   op,
		Path:        path,
		ClientToken: token,
		Data:        data,
	})
	if err == nil && resp != nil && resp.IsError() {
		err = resp.Error()
	}
	if err != nil {
		return resp, fmt.Errorf("%s %s: %w", op, path, err)
	}
	return resp, nil
}

// replaceRootToken creates a root token with the given id and revokes the
// generated one, so a restarted fixture can keep the token a test knows.
func replaceRootToken(ctx context.Context, core *vault.Core, generated, id string) (string, error) {
	resp, err := request(ctx, core, generated, logical.UpdateOperation, "auth/token/create",
		map[string]interface{}{
			"id":                id,
			"policies":          []string{"root"},
			"no_parent":         true,
			"no_default_policy": true,
		})
	if err != nil {
		return "", fmt.Errorf("root token: %w", err)
	}
	if resp == nil || resp.Auth == nil {
		return "", errors.New("root token: no auth in response")
	}
	_, err = request(ctx, core, generated, logical.UpdateOperation, "auth/token/revoke-self", nil)
	if err != nil {
		return "", fmt.Errorf("root token: %w", err)
	}
	return resp.Auth.ClientToken, nil
}

// populate mounts the engines and auth methods the tests expect.
func populate(ctx context.Context, core *vault.Core, token string) error {
	mounts := []struct {
		path string
		data map[string]interface{}
	}{
		{"sys/mounts/secret", map[string]interface{}{
			"type":        "kv",
			"description": "key/value secret storage (v2)",
			"options":     map[string]interface{}{"version": "2"},
		}},
		{"sys/mounts/kv1", map[string]interface{}{
			"type":        "kv",
			"description": "key/value secret storage (v1)",
			"options":     map[string]interface{}{"version": "1"},
		}},
		{"sys/mounts/database", map[string]interface{}{
			"type":        "database",
			"description": "database secrets engine (no connection configured)",
		}},
		{"sys/auth/approle", map[string]interface{}{"type": "approle"}},
		{"sys/auth/userpass", map[string]interface{}{"type": "userpass"}},
	}
	for _, m := range mounts {
		if _, err := request(ctx, core, token, logical.UpdateOperation, m.path, m.data); err != nil {
			return err
		}
	}

	// KV v2 finishes setting up a new mount in the background; reads and
	// writes fail until it is done. Do not announce readiness before then.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := request(ctx, core, token, logical.ReadOperation, "secret/config", nil)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kv v2 at secret/ not ready: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// announce prints the ready line, or writes it atomically to file.
func announce(info *ready, file string) error {
	line, err := json.Marshal(info)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	if file == "" {
		_, err := os.Stdout.Write(line)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".vaultdev-ready-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(line); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// shutdown stops the HTTP server, then the core.
func shutdown(logger hclog.Logger, srv *http.Server, core *vault.Core) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("http shutdown", "err", err)
		srv.Close()
	}
	if err := core.Shutdown(); err != nil {
		logger.Warn("core shutdown", "err", err)
	}
}
