package inject

import (
	"reflect"
	"strings"
	"testing"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
)

func vars(kv ...string) []Var {
	out := make([]Var, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, Var{Name: kv[i], Value: secret.FromString(kv[i+1])})
	}
	return out
}

func TestEnviron(t *testing.T) {
	defaults := manifest.Environment{Inherit: true, SecretsWin: true}
	with := func(f func(*manifest.Environment)) manifest.Environment {
		e := defaults
		f(&e)
		return e
	}
	tests := []struct {
		name      string
		env       manifest.Environment
		inherited []string
		vars      []Var
		want      []string
	}{
		{"secrets follow the inherited environment",
			defaults,
			[]string{"PATH=/bin", "HOME=/root"},
			vars("B", "2", "A", "1"),
			[]string{"PATH=/bin", "HOME=/root", "B=2", "A=1"}},
		{"values pass byte for byte",
			defaults,
			[]string{"X=a=b"},
			vars("T", "tok\n", "EQ", "a=b==", "DASH", "--k3y", "U", "héllo ✓",
				"D", "$HOME", "Q", `it's "both"`, "E", ""),
			[]string{"X=a=b", "T=tok\n", "EQ=a=b==", "DASH=--k3y", "U=héllo ✓",
				"D=$HOME", `Q=it's "both"`, "E="}},
		{"inherited duplicates collapse to the last",
			defaults,
			[]string{"A=1", "B=2", "A=3", "C=", "C=4"},
			nil,
			[]string{"B=2", "A=3", "C=4"}},
		{"a secret wins over an inherited name",
			defaults,
			[]string{"TOKEN=old", "PATH=/bin", "TOKEN=older"},
			vars("TOKEN", "new"),
			[]string{"PATH=/bin", "TOKEN=new"}},
		{"an inherited name wins with precedence inherited",
			with(func(e *manifest.Environment) { e.SecretsWin = false }),
			[]string{"TOKEN=old", "PATH=/bin"},
			vars("TOKEN", "new", "OTHER", "x"),
			[]string{"TOKEN=old", "PATH=/bin", "OTHER=x"}},
		{"a dropped name does not win with precedence inherited",
			with(func(e *manifest.Environment) {
				e.SecretsWin = false
				e.Drop = []string{"TOKEN"}
			}),
			[]string{"TOKEN=old"},
			vars("TOKEN", "new"),
			[]string{"TOKEN=new"}},
		{"drop exact names and trailing stars",
			with(func(e *manifest.Environment) {
				e.Drop = []string{"HISTFILE", "AWS_*", "SSH"}
			}),
			[]string{"HISTFILE=h", "HISTFILESIZE=1", "AWS_SECRET_ACCESS_KEY=k", "AWS_=x",
				"MY_AWS_X=y", "SSH=s", "SSH_AUTH_SOCK=/s"},
			nil,
			[]string{"HISTFILESIZE=1", "MY_AWS_X=y", "SSH_AUTH_SOCK=/s"}},
		{"drop everything inherited",
			with(func(e *manifest.Environment) { e.Drop = []string{"*"} }),
			[]string{"PATH=/bin", "HOME=/root"},
			vars("A", "1"),
			[]string{"A=1"}},
		{"drop does not touch secrets",
			with(func(e *manifest.Environment) { e.Drop = []string{"DB_*"} }),
			[]string{"DB_OLD=x"},
			vars("DB_PASS", "p"),
			[]string{"DB_PASS=p"}},
		{"Vault credentials are dropped by default",
			defaults,
			[]string{"VAULT_ADDR=http://127.0.0.1:8200", "VAULT_TOKEN=t", "VAULT_ROLE_ID=r",
				"VAULT_SECRET_ID=s", "VAULT_WRAPPED_SECRET_ID=w", "VAULT_TOKEN_X=ok"},
			nil,
			[]string{"VAULT_ADDR=http://127.0.0.1:8200", "VAULT_TOKEN_X=ok"}},
		{"Vault credentials kept when the manifest says so",
			with(func(e *manifest.Environment) { e.KeepVaultCredentials = true }),
			[]string{"VAULT_TOKEN=t", "VAULT_ROLE_ID=r", "VAULT_SECRET_ID=s"},
			nil,
			[]string{"VAULT_TOKEN=t", "VAULT_ROLE_ID=r", "VAULT_SECRET_ID=s"}},
		{"a secret may be named like a Vault credential",
			defaults,
			[]string{"VAULT_TOKEN=mine"},
			vars("VAULT_TOKEN", "for-the-child"),
			[]string{"VAULT_TOKEN=for-the-child"}},
		{"inherit false gives only secrets",
			with(func(e *manifest.Environment) { e.Inherit = false }),
			[]string{"PATH=/bin", "A=old"},
			vars("A", "1", "B", "2"),
			[]string{"A=1", "B=2"}},
		{"inherit false with precedence inherited still gives secrets",
			manifest.Environment{},
			[]string{"A=old"},
			vars("A", "1"),
			[]string{"A=1"}},
		{"nothing at all",
			defaults, nil, nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Environ(tt.env, tt.inherited, tt.vars)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			seen := make(map[string]bool)
			for _, kv := range got {
				name, _, _ := strings.Cut(kv, "=")
				if seen[name] {
					t.Errorf("%s appears more than once", name)
				}
				seen[name] = true
			}
		})
	}
}

// From a manifest to the child's environment, values unchanged.
func TestVarsThenEnviron(t *testing.T) {
	m := load(t, "  - {from: aws-sm://app, prefix: APP_}\n"+
		"  - {from: 'aws-sm://db#password', env: DB_PASSWORD}\n")
	resolved := map[string]source.Secret{
		"aws-sm://app": value(`{"token": "tok\n", "url": "a=b=="}`),
		"aws-sm://db":  value(`{"password": "--k3y"}`),
	}
	vs, err := Vars(m, resolved)
	if err != nil {
		t.Fatal(err)
	}
	got := Environ(m.Environment, []string{"HOME=/root", "VAULT_TOKEN=t", "APP_URL=old"}, vs)
	want := []string{"HOME=/root", "APP_TOKEN=tok\n", "APP_URL=a=b==", "DB_PASSWORD=--k3y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
