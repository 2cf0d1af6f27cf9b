package main

import (
	"sort"

	jwtauth "github.com/hashicorp/vault-plugin-auth-jwt"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/builtin/credential/approle"
	"github.com/hashicorp/vault/builtin/credential/userpass"
	"github.com/hashicorp/vault/plugins/database/postgresql"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/vault/plugincatalog"
)

// registry is the fixture's own vault/plugincatalog.BuiltinRegistry. Vault's
// helper/builtinplugins links every builtin (pki, transit, aws, ...) and does
// not build against sdk v0.20.0, so this lists only what envwrap's tests use.
//
// Secrets and auth plugins are handed out as a logical.Factory value, which is
// what Vault's plugin loader type-asserts for builtins; database plugins are
// handed out as their New function, which returns the dbplugin.Database.
type registry struct {
	credential map[string]logical.Factory
	secrets    map[string]logical.Factory
	database   map[string]func() (interface{}, error)
}

var _ plugincatalog.BuiltinRegistry = (*registry)(nil)

func newRegistry() *registry {
	return &registry{
		credential: map[string]logical.Factory{
			"approle":  approle.Factory,
			"userpass": userpass.Factory,
			"jwt":      jwtauth.Factory,
		},
		secrets: map[string]logical.Factory{
			"kv": kv.Factory,
		},
		database: map[string]func() (interface{}, error){
			"postgresql-database-plugin": postgresql.New,
		},
	}
}

func (r *registry) Get(name string, t consts.PluginType) (func() (interface{}, error), bool) {
	switch t {
	case consts.PluginTypeCredential:
		if f, ok := r.credential[name]; ok {
			return func() (interface{}, error) { return f, nil }, true
		}
	case consts.PluginTypeSecrets:
		if f, ok := r.secrets[name]; ok {
			return func() (interface{}, error) { return f, nil }, true
		}
	case consts.PluginTypeDatabase:
		if f, ok := r.database[name]; ok {
			return f, true
		}
	}
	return nil, false
}

func (r *registry) Keys(t consts.PluginType) []string {
	var keys []string
	switch t {
	case consts.PluginTypeCredential:
		for k := range r.credential {
			keys = append(keys, k)
		}
	case consts.PluginTypeSecrets:
		for k := range r.secrets {
			keys = append(keys, k)
		}
	case consts.PluginTypeDatabase:
		for k := range r.database {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func (r *registry) Contains(name string, t consts.PluginType) bool {
	_, ok := r.Get(name, t)
	return ok
}

func (r *registry) DeprecationStatus(name string,
	t consts.PluginType) (consts.DeprecationStatus, bool) {
	if r.Contains(name, t) {
		return consts.Supported, true
	}
	return consts.Unknown, false
}

func (r *registry) IsBuiltinEntPlugin(string, consts.PluginType) bool { return false }
