package inject

import (
	"slices"
	"strings"

	"github.com/envwrap/envwrap/manifest"
)

// VaultCredentials are envwrap's own Vault credentials. The child does not
// inherit them unless the manifest says keep_vault_credentials: true.
var VaultCredentials = []string{
	"VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID", "VAULT_WRAPPED_SECRET_ID",
}

// Environ merges the inherited environment with the secrets' variables
// into the child's environment. Each name appears once. Inherited
// entries keep their order (the last of repeated names wins, as in
// os/exec) and secrets follow in manifest order. When a name is both
// inherited and a secret, env.SecretsWin decides which value stays.
func Environ(env manifest.Environment, inherited []string, vars []Var) []string {
	secretNames := make(map[string]bool, len(vars))
	for _, v := range vars {
		secretNames[v.Name] = true
	}
	kept := inheritable(env, inherited)
	out := make([]string, 0, len(kept)+len(vars))
	inheritedNames := make(map[string]bool, len(kept))
	for _, kv := range kept {
		name, _, _ := strings.Cut(kv, "=")
		inheritedNames[name] = true
		if env.SecretsWin && secretNames[name] {
			continue
		}
		out = append(out, kv)
	}
	for _, v := range vars {
		if !env.SecretsWin && inheritedNames[v.Name] {
			continue
		}
		out = append(out, v.Name+"="+v.Value.Reveal())
	}
	return out
}

// inheritable filters and de-duplicates the inherited environment.
func inheritable(env manifest.Environment, inherited []string) []string {
	if !env.Inherit {
		return nil
	}
	last := make(map[string]int, len(inherited))
	for i, kv := range inherited {
		name, _, _ := strings.Cut(kv, "=")
		last[name] = i
	}
	var out []string
	for i, kv := range inherited {
		name, _, _ := strings.Cut(kv, "=")
		if last[name] != i || dropped(env, name) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func dropped(env manifest.Environment, name string) bool {
	if !env.KeepVaultCredentials && slices.Contains(VaultCredentials, name) {
		return true
	}
	for _, pat := range env.Drop {
		if prefix, glob := strings.CutSuffix(pat, "*"); glob && strings.HasPrefix(name, prefix) {
			return true
		}
		if pat == name {
			return true
		}
	}
	return false
}
