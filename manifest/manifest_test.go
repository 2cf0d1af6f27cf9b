package manifest

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envwrap/envwrap/source"
)

const file = "envwrap.yaml"

const full = `version: 1
aws:
  region: eu-west-1
  endpoint: http://127.0.0.1:4566
defaults:
  refresh: 10m
  on_change: signal:SIGHUP
secrets:
  - env: DB_PASSWORD
    from: aws-sm://prod/db#password
  - env: {API_KEY: key, API_URL: url, FLAG: true, COUNT: 3}
    from: aws-sm://prod/api?version_stage=AWSPREVIOUS
    optional: true
    refresh: 1m
  - from: ssm:///prod/app/
    prefix: APP_
    recursive: true
  - from: ssm:///prod/flat/
    prefix: ""
    refresh: 0s
  - from: aws-sm://tls/bundle
    as: tls
environment:
  inherit: false
  precedence: inherited
  drop: [AWS_*, HISTFILE]
  keep_vault_credentials: true
process:
  stop_signal: quit
  stop_timeout: 10s
  splay: 5s
  restart: on-failure
  max_restarts: 3
`

func TestParseFull(t *testing.T) {
	want := &Manifest{
		File:     file,
		Version:  1,
		Vault:    Vault{Auth: VaultAuth{Method: VaultToken}},
		AWS:      AWS{Region: "eu-west-1", Endpoint: "http://127.0.0.1:4566"},
		Defaults: Defaults{Refresh: 10 * time.Minute, OnChange: Action{Signal, syscall.SIGHUP}},
		Secrets: []Secret{{
			Index: 0, Line: 9, Col: 5,
			From: source.Ref{Raw: "aws-sm://prod/db#password", Scheme: "aws-sm",
				Locator: "prod/db", Key: "password"},
			Env:     "DB_PASSWORD",
			Refresh: 10 * time.Minute,
		}, {
			Index: 1, Line: 11, Col: 5,
			From: source.Ref{Raw: "aws-sm://prod/api?version_stage=AWSPREVIOUS",
				Scheme: "aws-sm", Locator: "prod/api",
				Query: url.Values{"version_stage": {"AWSPREVIOUS"}}},
			// The values of env stay the text that was written, in order.
			EnvMap: []EnvPair{
				{"API_KEY", "key"}, {"API_URL", "url"}, {"FLAG", "true"},
				{"COUNT", "3"},
			},
			Optional: true,
			Refresh:  time.Minute,
		}, {
			Index: 2, Line: 15, Col: 5,
			From: source.Ref{Raw: "ssm:///prod/app/", Scheme: "ssm", Locator: "/prod/app/",
				Recursive: true},
			Prefix: "APP_", Expand: true,
			Refresh: 10 * time.Minute,
		}, {
			Index: 3, Line: 18, Col: 5,
			From:   source.Ref{Raw: "ssm:///prod/flat/", Scheme: "ssm", Locator: "/prod/flat/"},
			Expand: true,
		}, {
			Index: 4, Line: 21, Col: 5,
			From: source.Ref{Raw: "aws-sm://tls/bundle", Scheme: "aws-sm",
				Locator: "tls/bundle"},
			As:      "tls",
			Refresh: 10 * time.Minute,
		}},
		Environment: Environment{
			Inherit:              false,
			SecretsWin:           false,
			Drop:                 []string{"AWS_*", "HISTFILE"},
			KeepVaultCredentials: true,
		},
		Process: Process{
			StopSignal:  syscall.SIGQUIT,
			StopTimeout: 10 * time.Second,
			Splay:       5 * time.Second,
			Restart:     RestartOnFailure,
			MaxRestarts: 3,
			// min_restart_interval left out: the default
			MinRestartInterval: DefaultMinRestart,
		},
	}
	got, err := Parse(file, []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(got), dump(want))
	}
}

// dump prints a manifest one secret a line, so that a difference shows.
func dump(m *Manifest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n%+v\n%+v\n%+v\n%+v\n", m.AWS, m.Defaults, m.Environment,
		m.Process, m.Version)
	for _, s := range m.Secrets {
		fmt.Fprintf(&b, "%+v query=%v rec=%v\n", s, s.From.Query, s.From.Recursive)
	}
	return b.String()
}

func TestParseDefaults(t *testing.T) {
	got, err := Parse(file, []byte("version: 1\nsecrets:\n  - {from: ssm://name, env: N}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{
		File:     file,
		Version:  1,
		Vault:    Vault{Auth: VaultAuth{Method: VaultToken}},
		Defaults: Defaults{Refresh: 5 * time.Minute, OnChange: Action{Kind: Restart}},
		Secrets: []Secret{{
			Index: 0, Line: 3, Col: 5,
			From:    source.Ref{Raw: "ssm://name", Scheme: "ssm", Locator: "name"},
			Env:     "N",
			Refresh: DefaultRefresh,
		}},
		Environment: Environment{Inherit: true, SecretsWin: true},
		Process: Process{StopSignal: syscall.SIGTERM, StopTimeout: 30 * time.Second,
			Restart: RestartNever, MaxRestarts: DefaultMaxRestarts,
			MinRestartInterval: DefaultMinRestart},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(got), dump(want))
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		name, yaml string
		check      func(*Manifest) any
		want       any
	}{
		{"on_change none", "version: 1\ndefaults: {on_change: none}\n",
			func(m *Manifest) any { return m.Defaults.OnChange }, Action{Kind: None}},
		{"on_change restart", "version: 1\ndefaults: {on_change: restart}\n",
			func(m *Manifest) any { return m.Defaults.OnChange }, Action{Kind: Restart}},
		{"signal short name", "version: 1\ndefaults: {on_change: 'signal:usr1'}\n",
			func(m *Manifest) any { return m.Defaults.OnChange },
			Action{Signal, syscall.SIGUSR1}},
		{"precedence secret", "version: 1\nenvironment: {precedence: secret}\n",
			func(m *Manifest) any { return m.Environment.SecretsWin }, true},
		{"refresh 0 means never", "version: 1\ndefaults: {refresh: 0s}\n",
			func(m *Manifest) any { return m.Defaults.Refresh }, time.Duration(0)},
		{"quoted version", "version: \"1\"\n",
			func(m *Manifest) any { return m.Version }, 1},
		{"leading document marker", "---\nversion: 1\n...\n",
			func(m *Manifest) any { return m.Version }, 1},
		{"locator byte for byte", "version: 1\nsecrets:\n" +
			"  - {from: 'aws-sm://arn:aws:secretsmanager:eu-west-1:1:secret:a$b-Xy', env: A}\n",
			func(m *Manifest) any { return m.Secrets[0].From.Locator },
			"arn:aws:secretsmanager:eu-west-1:1:secret:a$b-Xy"},
		{"env key stays as written", "version: 1\nsecrets:\n" +
			"  - {from: aws-sm://a, env: {X: true, Y: 0x10, Z: 1.0, W: null-ish}}\n",
			func(m *Manifest) any { return m.Secrets[0].EnvMap },
			[]EnvPair{{"X", "true"}, {"Y", "0x10"}, {"Z", "1.0"}, {"W", "null-ish"}}},
		{"drop with a trailing star", "version: 1\nenvironment: {drop: ['AWS_*', '*']}\n",
			func(m *Manifest) any { return m.Environment.Drop }, []string{"AWS_*", "*"}},
		{"prefix may be lower case", "version: 1\nsecrets:\n" +
			"  - {from: ssm:///a/, prefix: app_}\n",
			func(m *Manifest) any { return m.Secrets[0].Prefix }, "app_"},
		{"keys given as aliases", "version: 1\nsecrets:\n" +
			"  - {from: &r aws-sm://a, env: &n A}\n  - {from: *r, as: *n}\n",
			func(m *Manifest) any {
				return [2]string{m.Secrets[1].From.Raw, m.Secrets[1].As}
			}, [2]string{"aws-sm://a", "A"}},
		{"an env mapping with a merge", "version: 1\nsecrets:\n" +
			"  - {from: aws-sm://c, env: {<<: {A: a, B: b}, A: other}}\n",
			func(m *Manifest) any { return m.Secrets[0].EnvMap },
			[]EnvPair{{"A", "other"}, {"B", "b"}}},
		{"a secret merged from an anchor", "version: 1\nsecrets:\n" +
			"  - &base\n    from: aws-sm://a\n    env: A\n    optional: true\n" +
			"    refresh: 1m\n" +
			"  - <<: *base\n    env: B\n",
			func(m *Manifest) any {
				s := m.Secrets[1]
				return fmt.Sprint(s.From.Raw, s.Env, s.Optional, s.Refresh, s.Line)
			}, "aws-sm://aBtrue 1m0s 8"},
		{"a list of merges, earlier wins", "version: 1\nsecrets:\n" +
			"  - &a {from: aws-sm://a, as: a, optional: true}\n" +
			"  - &b {from: aws-sm://b, as: b, refresh: 2m}\n" +
			"  - {<<: [*a, *b], as: c}\n",
			func(m *Manifest) any {
				s := m.Secrets[2]
				return fmt.Sprint(s.From.Raw, s.As, s.Optional, s.Refresh)
			}, "aws-sm://actrue 2m0s"},
		{"no secrets at all", "version: 1\nsecrets: []\n",
			func(m *Manifest) any { return len(m.Secrets) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(file, []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(m); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const v1 = "version: 1\n"
	const sm = v1 + "secrets:\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown top-level key", v1 + "secret:\n  - from: aws-sm://a\n",
			"envwrap.yaml:2:1: secret: unknown key; allowed here: version, aws, vault, " +
				"defaults, secrets, templates, environment, process, agent, health"},
		{"unknown key in a secret", sm + "  - from: aws-sm://a\n    env: A\n    optinal: true\n",
			"envwrap.yaml:5:5: secrets[0].optinal: unknown key; allowed here: " +
				"from, env, prefix, as, optional, recursive, refresh"},
		{"unknown key in aws", v1 + "aws: {region: x, profile: y}\n",
			"envwrap.yaml:2:18: aws.profile: unknown key; allowed here: region, endpoint"},
		{"key given twice", v1 + "aws: {region: a, region: b}\n",
			"envwrap.yaml:2:18: aws.region: given twice (first at line 2)"},
		{"bad on_change", v1 + "defaults:\n  on_change: reload\n",
			`envwrap.yaml:3:14: defaults.on_change: "reload" is not allowed; use one of: ` +
				"restart, signal:NAME (e.g. signal:SIGHUP), none"},
		{"bad signal in on_change", v1 + "defaults:\n  on_change: signal:SIGFOO\n",
			`envwrap.yaml:3:14: defaults.on_change: "SIGFOO" is not a signal envwrap can ` +
				"send; use a name such as SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1"},
		{"bad precedence", v1 + "environment:\n  precedence: env\n",
			`envwrap.yaml:3:15: environment.precedence: "env" is not allowed; ` +
				"use one of: secret, inherited"},
		{"bad stop_signal", v1 + "process:\n  stop_signal: SIGNOPE\n",
			`envwrap.yaml:3:16: process.stop_signal: "SIGNOPE" is not a signal envwrap ` +
				"can send; use a name such as SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1"},
		{"SIGKILL cannot be the stop signal", v1 + "process: {stop_signal: KILL}\n",
			`envwrap.yaml:2:24: process.stop_signal: "KILL" is not a signal envwrap ` +
				"can send; use a name such as SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1"},
		{"bad duration", v1 + "process:\n  stop_timeout: 30\n",
			"envwrap.yaml:3:17: process.stop_timeout: want a duration such as 30s, 5m or " +
				`1h30m, got "30"`},
		{"negative duration", v1 + "defaults: {refresh: -5m}\n",
			"envwrap.yaml:2:21: defaults.refresh: want a duration such as 30s, 5m or " +
				`1h30m, got "-5m"`},
		{"bad boolean", v1 + "environment: {inherit: yes}\n",
			`envwrap.yaml:2:24: environment.inherit: want true or false, got "yes"`},
		{"env: ~", sm + "  - from: aws-sm://a\n    env: ~\n",
			"envwrap.yaml:4:10: secrets[0].env: is empty (null); give a value or remove the key"},
		{"env: with nothing", sm + "  - from: aws-sm://a\n    env:\n",
			"envwrap.yaml:4:9: secrets[0].env: is empty (null); give a value or remove the key"},
		{"env empty string", sm + "  - {from: aws-sm://a, env: ''}\n",
			"envwrap.yaml:3:29: secrets[0].env: must not be empty"},
		{"env map value null", sm + "  - {from: aws-sm://a, env: {A: }}\n",
			"envwrap.yaml:3:33: secrets[0].env.A: is empty (null); give a value or remove the key"},
		{"env empty mapping", sm + "  - {from: aws-sm://a, env: {}}\n",
			"envwrap.yaml:3:29: secrets[0].env: must name at least one variable"},
		{"env merges nothing", sm + "  - {from: aws-sm://a, env: {<<: {}}}\n",
			"envwrap.yaml:3:29: secrets[0].env: must name at least one variable"},
		{"env a list", sm + "  - {from: aws-sm://a, env: [A]}\n",
			"envwrap.yaml:3:29: secrets[0].env: want a variable name, or a mapping of " +
				"NAME: key; got a list"},
		{"region null", v1 + "aws:\n  region:\n",
			"envwrap.yaml:3:10: aws.region: is empty (null); give a value or remove the key"},
		{"section null", v1 + "process:\n",
			"envwrap.yaml:2:9: process: want a mapping of stop_signal, stop_timeout, splay, " +
				"restart, max_restarts, min_restart_interval, " +
				"got nothing (null)"},
		{"secrets a mapping", v1 + "secrets: {from: aws-sm://a}\n",
			"envwrap.yaml:2:10: secrets: want a list of secrets, got a mapping"},
		{"syntax error", v1 + "secrets:\n\t- from: aws-sm://a\n",
			"envwrap.yaml:3:1: invalid YAML: found character that cannot start any token"},
		{"unterminated string", v1 + "aws: {region: \"eu\n",
			"envwrap.yaml:2:1: invalid YAML: found unexpected end of stream"},
		{"unknown anchor", sm + "  - *nope\n",
			"envwrap.yaml: invalid YAML: unknown anchor 'nope' referenced"},
		{"empty file", "", "envwrap.yaml: is empty; it needs at least `version: 1`"},
		{"only comments", "# nothing yet\n",
			"envwrap.yaml: is empty; it needs at least `version: 1`"},
		{"two documents", v1 + "---\nversion: 1\n",
			"envwrap.yaml:2:1: a manifest is one YAML document; remove the second `---`"},
		{"syntax error in a second document", v1 + "---\nversion: [\n",
			"envwrap.yaml:3:1: invalid YAML: did not find expected node content"},
		{"not a mapping", "- version: 1\n",
			"envwrap.yaml:1:1: want a mapping of version, aws, vault, defaults, secrets, " +
				"templates, environment, process, agent, health, got a list"},
		{"version missing", "aws: {region: x}\n",
			"envwrap.yaml:1:1: version: is required; this release reads version 1"},
		{"version 2", "version: 2\n",
			"envwrap.yaml:1:10: version: version 2 is not supported; use 1"},
		{"version not a number", "version: one\n",
			`envwrap.yaml:1:10: version: want a whole number, got "one"`},
		{"one variable from two entries", sm +
			"  - {from: aws-sm://a, env: {DB_USER: user}}\n" +
			"  - {from: aws-sm://b, as: b}\n" +
			"  - {from: aws-sm://c, env: DB_USER}\n",
			"envwrap.yaml:5:5: secrets[2]: variable DB_USER is also set by secrets[0] at " +
				"line 3; each variable may come from one entry only"},
		{"one as name twice", sm +
			"  - {from: aws-sm://a, as: tls}\n  - {from: aws-sm://b, as: tls}\n",
			"envwrap.yaml:4:5: secrets[1]: as tls is also used by secrets[0] at line 3; " +
				"each as name may belong to one entry only"},
		{"one variable twice in a mapping", sm + "  - {from: aws-sm://a, env: {A: x, A: y}}\n",
			"envwrap.yaml:3:36: secrets[0].env.A: given twice"},
		{"env and prefix", sm + "  - from: ssm:///a/\n    env: {A: a}\n    prefix: P_\n",
			"envwrap.yaml:5:5: secrets[0].prefix: cannot be used with env; use env to pick " +
				"names, or prefix to take every field"},
		{"no env, prefix or as", sm + "  - from: aws-sm://a\n    optional: true\n",
			"envwrap.yaml:3:5: secrets[0]: needs env, prefix or as: say where the secret goes"},
		{"no from", sm + "  - env: A\n",
			"envwrap.yaml:3:5: secrets[0].from: is required: the reference to fetch, " +
				"such as aws-sm://name"},
		{"env string on a path", sm + "  - from: ssm:///a/\n    env: A\n",
			"envwrap.yaml:4:10: secrets[0].env: ssm:///a/ is a path and yields many values; " +
				"use prefix, or env as a mapping of NAME: key"},
		{"#key on a path", sm + "  - {from: 'ssm:///a/#k', prefix: P_}\n",
			"envwrap.yaml:3:12: secrets[0].from: #k does not apply to a path, which holds " +
				"many values; use env as a mapping of NAME: relative/name"},
		{"recursive on a single value", sm + "  - {from: ssm:///a/b, env: A, recursive: true}\n",
			"envwrap.yaml:3:32: secrets[0].recursive: applies only to an ssm:// path, " +
				"which ends in /"},
		{"vault address without a scheme", v1 + "vault:\n  address: 127.0.0.1:8200\n",
			"envwrap.yaml:3:12: vault.address: want a URL starting with http:// or " +
				`https://, such as https://vault.example.com:8200, got "127.0.0.1:8200"`},
		{"vault auth method not in this release", v1 + "vault:\n  auth: {method: aws}\n",
			`envwrap.yaml:3:18: vault.auth.method: "aws" is not supported in this ` +
				"release; use one of: token, approle, jwt, kubernetes"},
		{"vault auth key of another method", v1 + "vault:\n  auth: {token_file: /t, " +
			"method: approle}\n",
			"envwrap.yaml:3:10: vault.auth.token_file: does not apply to auth method approle; " +
				"it takes: role_id_file, secret_id_file, wrapped_secret_id, mount"},
		{"vault client cert without key", v1 + "vault:\n  tls: {client_cert: c.pem}\n",
			"envwrap.yaml:3:9: vault.tls.client_cert: needs client_key beside it"},
		{"vault unknown key", v1 + "vault:\n  adress: http://x\n",
			"envwrap.yaml:3:3: vault.adress: unknown key; allowed here: address, namespace, " +
				"timeout, tls, auth, revoke_on_exit"},
		{"vault bad revoke_on_exit", v1 + "vault:\n  revoke_on_exit: yes\n",
			`envwrap.yaml:3:19: vault.revoke_on_exit: want true or false, got "yes"`},
		{"bad scheme", sm + "  - {from: 'https://example.com/x', env: A}\n",
			`envwrap.yaml:3:12: secrets[0].from: reference "https://example.com/x": ` +
				`unknown scheme "https"; use one of aws-sm://, ssm://, file://, vault://`},
		{"no scheme", sm + "  - {from: prod/db, env: A}\n",
			`envwrap.yaml:3:12: secrets[0].from: reference "prod/db" has no scheme; ` +
				"use one of aws-sm://, ssm://, file://, vault://"},
		{"unknown query option", sm + "  - {from: 'aws-sm://a?stage=AWSCURRENT', env: A}\n",
			`envwrap.yaml:3:12: secrets[0].from: reference "aws-sm://a?stage=AWSCURRENT": ` +
				`unknown option "stage"; allowed: version_id, version_stage`},
		{"from null", sm + "  - {from: , env: A}\n",
			"envwrap.yaml:3:12: secrets[0].from: is empty (null); give a value or remove the key"},
		{"name starts with a digit", sm + "  - {from: aws-sm://a, env: 1ABC}\n",
			`envwrap.yaml:3:29: secrets[0].env: "1ABC" is not a valid variable name: use ` +
				"letters, digits and _, not starting with a digit"},
		{"name with a dash", sm + "  - {from: aws-sm://a, env: {A-B: k}}\n",
			`envwrap.yaml:3:30: secrets[0].env.A-B: "A-B" is not a valid variable name: ` +
				"use letters, digits and _, not starting with a digit"},
		{"prefix starts with a digit", sm + "  - {from: ssm:///a/, prefix: \"3\"}\n",
			`envwrap.yaml:3:31: secrets[0].prefix: "3" is not a valid variable name: use ` +
				"letters, digits and _, not starting with a digit"},
		{"as not a name", sm + "  - {from: aws-sm://a, as: tls.pem}\n",
			`envwrap.yaml:3:28: secrets[0].as: "tls.pem" is not a valid variable name: ` +
				"use letters, digits and _, not starting with a digit"},
		{"star inside a drop pattern", v1 + "environment: {drop: ['A*B']}\n",
			"envwrap.yaml:2:22: environment.drop[0]: only a trailing * is supported"},
		{"merge of a scalar", sm + "  - {<<: x, from: aws-sm://a, env: A}\n",
			"envwrap.yaml:3:10: secrets[0].<<: want a mapping or a list of mappings to merge, " +
				"got a single value"},
		{"merge into itself", sm + "  - &a {from: aws-sm://a, env: A, <<: *a}\n",
			"envwrap.yaml:3:35: secrets[0].<<: merges a mapping into itself"},
		{"merged unknown key", sm + "  - &a {from: aws-sm://a, as: a, bad: 1}\n" +
			"  - {<<: *a, as: b}\n",
			"envwrap.yaml:3:34: secrets[0].bad: unknown key; allowed here: " +
				"from, env, prefix, as, optional, recursive, refresh\n" +
				"envwrap.yaml:3:34: secrets[1].bad: unknown key; allowed here: " +
				"from, env, prefix, as, optional, recursive, refresh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(file, []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error; got %s", dump(m))
			}
			if m != nil {
				t.Errorf("got a manifest beside the error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tt.want)
			}
			if !IsManifestError(err) {
				t.Errorf("IsManifestError = false for %v", err)
			}
		})
	}
}

// Errors come back in file order, whatever order they were found in.
func TestParseErrorsSorted(t *testing.T) {
	src := `version: 2
process: {splay: soon}
secrets:
  - {from: aws-sm://a, env: A, bogus: 1}
  - {from: aws-sm://b, env: A}
vault: {address: vault:8200}
environment: {precedence: mine}
`
	want := []string{
		"envwrap.yaml:1:10: version: version 2 is not supported; use 1",
		`envwrap.yaml:2:18: process.splay: want a duration such as 30s, 5m or 1h30m, got "soon"`,
		"envwrap.yaml:4:32: secrets[0].bogus: unknown key; allowed here: " +
			"from, env, prefix, as, optional, recursive, refresh",
		"envwrap.yaml:5:5: secrets[1]: variable A is also set by secrets[0] at line 4; " +
			"each variable may come from one entry only",
		"envwrap.yaml:6:18: vault.address: want a URL starting with http:// or https://, " +
			`such as https://vault.example.com:8200, got "vault:8200"`,
		`envwrap.yaml:7:27: environment.precedence: "mine" is not allowed; ` +
			"use one of: secret, inherited",
	}
	_, err := Parse(file, []byte(src))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %T %v, want Errors", err, err)
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var one *Error
	if !errors.As(err, &one) || one.Line != 1 || one.Field != "version" {
		t.Errorf("errors.As gave %+v, want the version error first", one)
	}
}

// A broken file reports its first problems, not the first ones found.
func TestParseErrorsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("secrets:\n")
	for i := range maxErrors + 5 {
		fmt.Fprintf(&b, "  - {from: aws-sm://s%d, env: %d}\n", i, i)
	}
	b.WriteString("version: 1\n") // found first, but last in the file
	_, err := Parse(file, []byte(b.String()))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v", err)
	}
	if len(es) != maxErrors {
		t.Fatalf("got %d errors, want %d", len(es), maxErrors)
	}
	if es[0].Line != 2 || es[maxErrors-1].Line != maxErrors+1 {
		t.Errorf("got lines %d..%d, want 2..%d", es[0].Line, es[maxErrors-1].Line, maxErrors+1)
	}
}

func TestWhere(t *testing.T) {
	s := Secret{Index: 2, Line: 12, Col: 5}
	if got, want := s.Where("envwrap.yaml"), "envwrap.yaml:12:5 (secrets[2])"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseVault(t *testing.T) {
	src := `version: 1
vault:
  address: https://vault.example.com:8200
  namespace: team-a
  timeout: 10s
  tls: {ca_file: ca.pem, client_cert: c.pem, client_key: k.pem, server_name: vault,
        skip_verify: false}
  auth:
    method: approle
    role_id_file: /run/role_id
    secret_id_file: /run/secret_id
    wrapped_secret_id: true
    mount: approle-prod
  revoke_on_exit: true
secrets:
  - {from: 'vault://secret/app#password', env: A}
  - {from: 'vault://secret/app?version=3', env: {B: b}}
`
	m, err := Parse(file, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Vault{Address: "https://vault.example.com:8200", Namespace: "team-a",
		Timeout: 10 * time.Second,
		TLS: VaultTLS{CAFile: "ca.pem", ClientCert: "c.pem", ClientKey: "k.pem",
			ServerName: "vault"},
		Auth: VaultAuth{Method: VaultAppRole, RoleIDFile: "/run/role_id",
			SecretIDFile: "/run/secret_id", WrappedSecretID: true, Mount: "approle-prod"},
		RevokeOnExit: true}
	if !reflect.DeepEqual(m.Vault, want) {
		t.Errorf("got %+v\nwant %+v", m.Vault, want)
	}
	if got := m.Secrets[1].From.Query.Get("version"); got != "3" {
		t.Errorf("version = %q, want 3", got)
	}
}

func TestParseVaultDefaults(t *testing.T) {
	m, err := Parse(file, []byte("version: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Vault{Auth: VaultAuth{Method: VaultToken}}); !reflect.DeepEqual(m.Vault, want) {
		t.Errorf("got %+v, want %+v", m.Vault, want)
	}
}
