package inject

import (
	"reflect"
	"strings"
	"testing"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/secret/secrettest"
	"github.com/envwrap/envwrap/source"
)

// canary marks secret text; no error message may contain any of it.
const canary = secrettest.Canary

func noCanary(t *testing.T, msg string) { secrettest.NoLeak(t, "the error", msg) }

// load parses a manifest whose secrets list is body; its first entry is
// on line 3.
func load(t *testing.T, body string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Parse("envwrap.yaml", []byte("version: 1\nsecrets:\n"+body))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func value(s string) source.Secret { return source.Secret{Value: secret.FromString(s)} }

func tree(kv ...string) source.Secret {
	t := make(map[string]secret.Value)
	for i := 0; i+1 < len(kv); i += 2 {
		t[kv[i]] = secret.FromString(kv[i+1])
	}
	return source.Secret{Tree: t}
}

// show lists variables as NAME=value [key] for comparison.
func show(vars []Var) []string {
	out := make([]string, len(vars))
	for i, v := range vars {
		out[i] = v.Name + "=" + v.Value.Reveal() + " [" + v.Key + "]"
	}
	return out
}

func TestVars(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		resolved map[string]source.Secret
		want     []string
	}{
		{"env string",
			"  - {from: aws-sm://tok, env: TOKEN}\n",
			map[string]source.Secret{"aws-sm://tok": value("tok\n")},
			[]string{"TOKEN=tok\n []"}},
		{"env string with a key",
			"  - {from: 'aws-sm://db#password', env: DB_PASSWORD}\n",
			map[string]source.Secret{"aws-sm://db": value(`{"password": "a=b=="}`)},
			[]string{"DB_PASSWORD=a=b== [password]"}},
		{"env map",
			"  - {from: aws-sm://api, env: {API_URL: url, API_KEY: key, PORT: n.port}}\n",
			map[string]source.Secret{"aws-sm://api": value(
				`{"key": "--k3y", "url": "https://x/$HOME", "n": {"port": 8443}}`)},
			[]string{"API_URL=https://x/$HOME [url]", "API_KEY=--k3y [key]",
				"PORT=8443 [n.port]"}},
		{"env map under a key",
			"  - {from: 'aws-sm://api#db', env: {H: host}}\n",
			map[string]source.Secret{"aws-sm://api": value(`{"db": {"host": "h"}}`)},
			[]string{"H=h [host]"}},
		{"two entries share one fetch",
			"  - {from: 'aws-sm://db#user', env: U}\n  - {from: 'aws-sm://db#pass', env: P}\n",
			map[string]source.Secret{"aws-sm://db": value(`{"user": "u", "pass": "p"}`)},
			[]string{"U=u [user]", "P=p [pass]"}},
		{"prefix over a JSON object, sorted by key",
			"  - {from: aws-sm://cfg, prefix: CFG_}\n",
			map[string]source.Secret{"aws-sm://cfg": value(
				`{"port": 5432, "db-host": "h", "apiKey": "héllo ✓", "tls": {"on": true}}`)},
			[]string{"CFG_APIKEY=héllo ✓ [apiKey]", "CFG_DB_HOST=h [db-host]",
				"CFG_PORT=5432 [port]", `CFG_TLS={"on":true} [tls]`}},
		{"prefix over an SSM path",
			"  - {from: ssm:///app/, prefix: PREFIX_, recursive: true}\n",
			map[string]source.Secret{"ssm:///app/ (recursive)": tree(
				"db/host", "h", "db/port", "5432", "name", "it's \"both\"")},
			[]string{"PREFIX_DB_HOST=h [db/host]", "PREFIX_DB_PORT=5432 [db/port]",
				`PREFIX_NAME=it's "both" [name]`}},
		{"empty prefix",
			"  - {from: ssm:///app/, prefix: ''}\n",
			map[string]source.Secret{"ssm:///app/": tree("db.host", "h")},
			[]string{"DB_HOST=h [db.host]"}},
		{"env map over an SSM path",
			"  - {from: ssm:///app/, env: {HOST: db/host}}\n",
			map[string]source.Secret{"ssm:///app/": tree("db/host", "h", "other", "o")},
			[]string{"HOST=h [db/host]"}},
		{"an empty path gives nothing",
			"  - {from: ssm:///empty/, prefix: E_}\n",
			map[string]source.Secret{"ssm:///empty/": {}},
			[]string{}},
		{"optional entry not fetched",
			"  - {from: aws-sm://gone, env: GONE, optional: true}\n" +
				"  - {from: aws-sm://here, env: HERE}\n",
			map[string]source.Secret{"aws-sm://here": value("x")},
			[]string{"HERE=x []"}},
		{"template-only entry",
			"  - {from: aws-sm://tls, as: tls}\n",
			map[string]source.Secret{"aws-sm://tls": value("\x00binary")},
			[]string{}},
		{"binary that is text",
			"  - {from: aws-sm://bin, env: BIN}\n",
			map[string]source.Secret{"aws-sm://bin": {Value: secret.FromString("ok ✓"),
				Binary: true}},
			[]string{"BIN=ok ✓ []"}},
		{"empty value",
			"  - {from: aws-sm://e, env: E}\n",
			map[string]source.Secret{"aws-sm://e": value("")},
			[]string{"E= []"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Vars(load(t, tt.body), tt.resolved)
			if err != nil {
				t.Fatal(err)
			}
			if s := show(got); !reflect.DeepEqual(s, tt.want) {
				t.Errorf("got  %q\nwant %q", s, tt.want)
			}
		})
	}
}

func TestVarsErrors(t *testing.T) {
	long := strings.Repeat("x", MaxVarLen-len("BIG=")-1) + canary
	tests := []struct {
		name     string
		body     string
		resolved map[string]source.Secret
		want     string
	}{
		{"required entry not fetched",
			"  - {from: aws-sm://here, env: HERE}\n  - {from: aws-sm://gone, env: GONE}\n",
			map[string]source.Secret{"aws-sm://here": value(canary)},
			"inject: envwrap.yaml:4:5 (secrets[1]): aws-sm://gone was not fetched"},
		{"two expansions give one name",
			"  - {from: aws-sm://a, prefix: P_}\n  - {from: ssm:///b/, prefix: P_}\n",
			map[string]source.Secret{
				"aws-sm://a":  value(`{"db-host": "` + canary + `"}`),
				"ssm:///b/":   tree("db/host", canary),
				"unused/noop": value(canary),
			},
			`inject: variable P_DB_HOST is given by envwrap.yaml:3:5 (secrets[0]) ` +
				`(key "db-host") and by envwrap.yaml:4:5 (secrets[1]) (key "db/host")`},
		{"one expansion gives one name twice",
			"  - {from: aws-sm://a, prefix: P_}\n",
			map[string]source.Secret{"aws-sm://a": value(
				`{"db_host": "` + canary + `", "DB-HOST": "` + canary + `"}`)},
			`inject: variable P_DB_HOST is given by envwrap.yaml:3:5 (secrets[0]) ` +
				`(key "DB-HOST") and by envwrap.yaml:3:5 (secrets[0]) (key "db_host")`},
		{"an expansion and an env name",
			"  - {from: aws-sm://a, env: P_X}\n  - {from: aws-sm://b, prefix: P_}\n",
			map[string]source.Secret{
				"aws-sm://a": value(canary),
				"aws-sm://b": value(`{"x": "` + canary + `"}`),
			},
			`inject: variable P_X is given by envwrap.yaml:3:5 (secrets[0]) and by ` +
				`envwrap.yaml:4:5 (secrets[1]) (key "x")`},
		{"NUL in a value",
			"  - {from: aws-sm://a, env: {TOKEN: t}}\n",
			map[string]source.Secret{"aws-sm://a": value(`{"t": "` + canary + `\u0000"}`)},
			"inject: envwrap.yaml:3:5 (secrets[0]): aws-sm://a: variable TOKEN: value " +
				"contains a NUL byte, which an environment variable cannot hold; " +
				"write it to a file instead"},
		{"NUL in a path value",
			"  - {from: ssm:///p/, prefix: P_}\n",
			map[string]source.Secret{"ssm:///p/": tree("k", canary+"\x00")},
			"inject: envwrap.yaml:3:5 (secrets[0]): ssm:///p/: variable P_K: value " +
				"contains a NUL byte, which an environment variable cannot hold; " +
				"write it to a file instead"},
		{"binary that is not UTF-8",
			"  - {from: aws-sm://bin, env: BIN}\n",
			map[string]source.Secret{"aws-sm://bin": {
				Value: secret.FromString(canary + "\xff\xfe"), Binary: true}},
			"inject: envwrap.yaml:3:5 (secrets[0]): aws-sm://bin: variable BIN: binary " +
				"secret is not valid UTF-8 text; write it to a file instead"},
		{"a dotenv file used whole",
			"  - {from: file://dev.env, env: DEV}\n",
			map[string]source.Secret{"file://dev.env": {
				Value: secret.FromString(`{"A":"` + canary + `"}`), Composite: true}},
			"inject: envwrap.yaml:3:5 (secrets[0]): file://dev.env holds many values; " +
				"pick one with #NAME, or use prefix or an env mapping"},
		{"value too large",
			"  - {from: aws-sm://big, env: BIG}\n",
			map[string]source.Secret{"aws-sm://big": value(long)},
			"inject: envwrap.yaml:3:5 (secrets[0]): aws-sm://big: variable BIG: 131085 " +
				"bytes is more than the kernel's limit of 131072 for one variable; " +
				"write it to a file instead"},
		{"missing key in an env map",
			"  - {from: aws-sm://a, env: {U: user, P: password}}\n",
			map[string]source.Secret{"aws-sm://a": value(`{"user": "` + canary + `"}`)},
			`inject: envwrap.yaml:3:5 (secrets[0]): aws-sm://a: key "password": ` +
				`no field "password"`},
		{"missing key in the reference",
			"  - {from: 'aws-sm://a#pass', env: P}\n",
			map[string]source.Secret{"aws-sm://a": value(`{"user": "` + canary + `"}`)},
			`inject: envwrap.yaml:3:5 (secrets[0]): aws-sm://a#pass: key "pass": ` +
				`no field "pass"`},
		{"key on a value that is not JSON",
			"  - {from: 'aws-sm://a#pass', env: P}\n",
			map[string]source.Secret{"aws-sm://a": value(canary)},
			`inject: envwrap.yaml:3:5 (secrets[0]): aws-sm://a#pass: key "pass": ` +
				`value is not a JSON object`},
		{"prefix over a value that is not JSON",
			"  - {from: aws-sm://a, prefix: P_}\n",
			map[string]source.Secret{"aws-sm://a": value("{" + canary)},
			"inject: envwrap.yaml:3:5 (secrets[0]): aws-sm://a: prefix needs a JSON " +
				"object: value is not valid JSON (at byte 2)"},
		{"prefix over a null field",
			"  - {from: aws-sm://a, prefix: P_}\n",
			map[string]source.Secret{"aws-sm://a": value(`{"x": "` + canary + `", "n": null}`)},
			"inject: envwrap.yaml:3:5 (secrets[0]): aws-sm://a: prefix needs a JSON " +
				`object: field "n": value is null`},
		{"no prefix and a key that starts with a digit",
			"  - {from: ssm:///a/, prefix: ''}\n",
			map[string]source.Secret{"ssm:///a/": tree("1abc", canary)},
			`inject: envwrap.yaml:3:5 (secrets[0]): ssm:///a/: key "1abc" gives "1ABC", ` +
				"which is not a valid variable name; set a prefix"},
		{"missing parameter under a path",
			"  - {from: ssm:///a/, env: {H: db/host}}\n",
			map[string]source.Secret{"ssm:///a/": tree("db/port", canary)},
			`inject: envwrap.yaml:3:5 (secrets[0]): ssm:///a/: no parameter "db/host" ` +
				"under the path"},
		{"missing parameter under an empty path",
			"  - {from: ssm:///a/, env: {H: db/host}}\n",
			map[string]source.Secret{"ssm:///a/": {}},
			`inject: envwrap.yaml:3:5 (secrets[0]): ssm:///a/: no parameter "db/host" ` +
				"under the path"},
		{"every problem is reported",
			"  - {from: aws-sm://a, env: A}\n  - {from: aws-sm://b, env: B}\n",
			map[string]source.Secret{"aws-sm://a": value(canary + "\x00")},
			"inject: envwrap.yaml:3:5 (secrets[0]): aws-sm://a: variable A: value " +
				"contains a NUL byte, which an environment variable cannot hold; " +
				"write it to a file instead\n" +
				"inject: envwrap.yaml:4:5 (secrets[1]): aws-sm://b was not fetched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Vars(load(t, tt.body), tt.resolved)
			if err == nil {
				t.Fatalf("no error; got %q", show(got))
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			noCanary(t, err.Error())
		})
	}
}

func TestCheck(t *testing.T) {
	atLimit := strings.Repeat("v", MaxVarLen-len("NAME=")-1)
	tests := []struct {
		name   string
		value  string
		binary bool
		want   string // "" means no error
	}{
		{"exactly at the limit", atLimit, false, ""},
		{"one byte over the limit", atLimit + "v", false, "variable NAME: 131073 bytes " +
			"is more than the kernel's limit of 131072 for one variable; " +
			"write it to a file instead"},
		{"NUL", "a\x00b", false, "variable NAME: value contains a NUL byte, which an " +
			"environment variable cannot hold; write it to a file instead"},
		{"invalid UTF-8 from a string field is passed on", "\xff", false, ""},
		{"invalid UTF-8 from a binary field", "\xff", true, "variable NAME: binary " +
			"secret is not valid UTF-8 text; write it to a file instead"},
		{"newlines and quotes", "a\n'\"\r\n", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check("NAME", secret.FromString(tt.value), tt.binary)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	tests := []struct{ key, want string }{
		{"db/host", "DB_HOST"},
		{"db-host", "DB_HOST"},
		{"db.host", "DB_HOST"},
		{"DB_HOST", "DB_HOST"},
		{"apiKey", "APIKEY"},
		{"a//b", "A__B"},
		{"x1/2y", "X1_2Y"},
		{"héllo", "H_LLO"},
		{"ı", "_"}, // not upper-cased to I: only ASCII letters change
		{"ſ", "_"},
		{"\xff", "_"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Name(tt.key); got != tt.want {
			t.Errorf("Name(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}
