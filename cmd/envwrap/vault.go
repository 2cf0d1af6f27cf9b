package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/vault"
)

// vaultSource logs in to Vault within the fetch timeout. A failure makes
// every vault:// reference fail with it, as the AWS backends do, so that
// optional references are only logged and required ones are named.
func vaultSource(ctx context.Context, opts *options, m *manifest.Manifest) source.Source {
	cfg, err := vaultConfig(opts, m)
	if err != nil {
		return source.Broken(source.Permanent(err))
	}
	if opts.fetchTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.fetchTimeout)
		defer cancel()
	}
	src, err := vault.New(ctx, cfg)
	if err != nil {
		return source.Broken(source.Permanent(err))
	}
	return src
}

// vaultConfig turns the manifest's vault section into the backend's
// Config, taking what the section leaves out from the environment.
func vaultConfig(opts *options, m *manifest.Manifest) (vault.Config, error) {
	v := m.Vault
	addr := v.Address
	if addr == "" {
		addr = os.Getenv("VAULT_ADDR")
	}
	if addr == "" {
		return vault.Config{}, errors.New("vault: no address: set vault.address in " +
			"the manifest or $VAULT_ADDR")
	}
	dir := filepath.Dir(m.File)
	return vault.Config{
		Address: addr, Namespace: v.Namespace, Timeout: v.Timeout, Logger: opts.log,
		TLS: vault.TLS{CAFile: rel(dir, v.TLS.CAFile), ClientCert: rel(dir, v.TLS.ClientCert),
			ClientKey: rel(dir, v.TLS.ClientKey), ServerName: v.TLS.ServerName,
			SkipVerify: v.TLS.SkipVerify},
		Auth: vaultAuth(dir, v.Auth),
	}, nil
}

// vaultAuth reads a credential from the environment only where the
// manifest names no file for it.
func vaultAuth(dir string, a manifest.VaultAuth) vault.Auth {
	out := vault.Auth{Method: a.Method, TokenFile: rel(dir, a.TokenFile),
		RoleIDFile: rel(dir, a.RoleIDFile), SecretIDFile: rel(dir, a.SecretIDFile),
		WrappedSecretID: a.WrappedSecretID, Mount: a.Mount,
		Role: a.Role, JWTFile: rel(dir, a.JWTFile)}
	if out.TokenFile == "" {
		out.Token = secret.FromString(os.Getenv("VAULT_TOKEN"))
	}
	if out.RoleIDFile == "" {
		out.RoleID = secret.FromString(os.Getenv("VAULT_ROLE_ID"))
	}
	if out.SecretIDFile == "" {
		out.SecretID = secret.FromString(os.Getenv("VAULT_SECRET_ID"))
	}
	return out
}

// rel makes a relative path relative to dir, the manifest's directory.
func rel(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// closeSources stops the backends' background work. With revoke, the
// leases of what they fetched are revoked first (vault.revoke_on_exit).
func closeSources(sources map[string]source.Source, revoke bool) {
	for _, src := range sources {
		if r, ok := src.(interface{ RevokeAll(context.Context) }); ok && revoke {
			r.RevokeAll(context.Background())
		}
		if c, ok := src.(interface{ Close() }); ok {
			c.Close()
		}
	}
}
