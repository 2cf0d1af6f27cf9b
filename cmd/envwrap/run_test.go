package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

const canary = "canary-e2e-8c41f0"

// awkward values that must reach the child byte for byte.
var awkward = map[string]string{
	"TOKEN":  "tok\n",
	"PADDED": "a=b==",
	"DASHES": "--k3y",
	"UNI":    "héllo ✓",
	"DOLLAR": "$HOME",
	"QUOTES": `both "double" and 'single' quotes`,
}

func TestSecretsReachTheChildExactly(t *testing.T) {
	url, sm, ps := emulator(t)
	putSecret(t, sm, "app/token", awkward["TOKEN"])
	putSecret(t, sm, "app/padded", awkward["PADDED"])
	putSecret(t, sm, "app/db", `{"user":"u1","pass":"`+canary+`","port":5432,`+
		`"big":12345678901234567890,"ratio":1.0,"on":true,"tags":{"a":[1, 2]}}`)
	putParam(t, ps, "/app/dashes", awkward["DASHES"], ssmtypes.ParameterTypeSecureString)
	putParam(t, ps, "/app/uni", awkward["UNI"], ssmtypes.ParameterTypeString)
	putParam(t, ps, "/app/dollar", awkward["DOLLAR"], ssmtypes.ParameterTypeString)
	putParam(t, ps, "/app/quotes", awkward["QUOTES"], ssmtypes.ParameterTypeString)
	putParam(t, ps, "/app/list", "a,b,c", ssmtypes.ParameterTypeStringList)
	putParam(t, ps, "/app2/sibling", "no", ssmtypes.ParameterTypeString)
	for i := range 27 {
		putParam(t, ps, fmt.Sprintf("/many/p%02d", i), fmt.Sprint(i), ssmtypes.ParameterTypeString)
	}
	putParam(t, ps, "/many/deeper/x", "deep", ssmtypes.ParameterTypeString)

	dir := t.TempDir()
	writeManifest(t, dir, `version: 1
aws: {region: us-east-1, endpoint: "`+url+`"}
secrets:
  - {env: TOKEN, from: "aws-sm://app/token"}
  - {env: PADDED, from: "aws-sm://app/padded"}
  - from: aws-sm://app/db
    env: {DB_USER: user, DB_PASS: pass, DB_PORT: port}
  - from: aws-sm://app/db
    prefix: J_
  - from: ssm:///app/
    prefix: APP_
  - {env: DASHES, from: "ssm:///app/dashes"}
  - from: ssm:///many/
    prefix: MANY_
environment:
  drop: [DROP_ME, "DROPPED_*"]
`)
	out := filepath.Join(dir, "report.json")
	args := append([]string{"--log-level", "debug"},
		childArgs("report", out, "-x", "--y", "", "héllo ✓")...)
	res := envwrap(t, dir, []string{"TOKEN=inherited", "DROP_ME=1", "DROPPED_X=1",
		"VAULT_TOKEN=s.secret-" + canary, "KEEP=kept"}, args...)
	if res.code != 0 {
		t.Fatalf("envwrap exited %d:\n%s", res.code, res.stderr)
	}
	rep := readReport(t, out)
	if want := []string{"-x", "--y", "", "héllo ✓"}; strings.Join(rep.Args, "|") !=
		strings.Join(want, "|") {
		t.Errorf("child args = %q, want %q", rep.Args, want)
	}
	want := map[string]string{
		"TOKEN": awkward["TOKEN"], "PADDED": awkward["PADDED"], "DASHES": awkward["DASHES"],
		"APP_UNI": awkward["UNI"], "APP_DOLLAR": awkward["DOLLAR"],
		"APP_QUOTES": awkward["QUOTES"], "APP_LIST": "a,b,c",
		"DB_USER": "u1", "DB_PORT": "5432", "J_BIG": "12345678901234567890",
		"J_RATIO": "1.0", "J_ON": "true", "J_TAGS": `{"a":[1,2]}`, "KEEP": "kept",
		"MANY_P00": "0", "MANY_P26": "26",
	}
	for name, v := range want {
		got, n := rep.lookup(name)
		if n != 1 || got != v {
			t.Errorf("%s = %q (present %d times), want %q once", name, got, n, v)
		}
	}
	if got, _ := rep.lookup("DB_PASS"); got != canary {
		t.Error("DB_PASS did not reach the child exactly")
	}
	for _, absent := range []string{"DROP_ME", "DROPPED_X", "VAULT_TOKEN", "APP_SIBLING",
		"MANY_DEEPER_X"} {
		if _, n := rep.lookup(absent); n != 0 {
			t.Errorf("%s reached the child; it should not", absent)
		}
	}
	many := 0
	for _, kv := range rep.Env {
		if strings.HasPrefix(kv, "MANY_") {
			many++
		}
	}
	if many != 27 {
		t.Errorf("the path with 27 parameters gave %d variables", many)
	}
	if strings.Contains(res.stderr+res.stdout, canary) {
		t.Error("a secret value appeared in envwrap's output")
	}
	if !strings.Contains(res.stderr, "ref=aws-sm://app/db") {
		t.Errorf("debug log does not name the fetched reference:\n%s", res.stderr)
	}
}

func TestMissingSecretStopsBeforeTheChild(t *testing.T) {
	url, sm, _ := emulator(t)
	putSecret(t, sm, "present", canary)
	dir := t.TempDir()
	writeManifest(t, dir, `version: 1
aws: {region: us-east-1, endpoint: "`+url+`"}
secrets:
  - {env: OK, from: "aws-sm://present"}
  - {env: GONE, from: "aws-sm://does/not/exist"}
`)
	out := filepath.Join(dir, "report.json")
	res := envwrap(t, dir, nil, append([]string{"--log-level", "debug"},
		childArgs("report", out)...)...)
	if res.code != exitFetch {
		t.Errorf("exit %d, want %d", res.code, exitFetch)
	}
	if !strings.Contains(res.stderr, "aws-sm://does/not/exist") {
		t.Errorf("stderr does not name the missing reference:\n%s", res.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the child started although a required secret was missing")
	}
	if strings.Contains(res.stderr, canary) {
		t.Error("a secret value appeared in envwrap's output")
	}
}

func TestOptionalSecretMayBeMissing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dev.env"), []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, `version: 1
secrets:
  - {from: "file://dev.env", prefix: ""}
  - {env: B, from: "file://absent.env#B", optional: true}
`)
	out := filepath.Join(dir, "report.json")
	res := envwrap(t, dir, nil, childArgs("report", out)...)
	if res.code != 0 {
		t.Fatalf("exit %d:\n%s", res.code, res.stderr)
	}
	rep := readReport(t, out)
	if a, _ := rep.lookup("A"); a != "1" {
		t.Errorf("A = %q, want 1", a)
	}
	if _, n := rep.lookup("B"); n != 0 {
		t.Error("the missing optional secret B was set")
	}
}

// TestCanaryNeverPrinted provokes every failure that involves a secret's
// value and checks, at debug level, that the value never appears.
func TestCanaryNeverPrinted(t *testing.T) {
	url, sm, ps := emulator(t)
	putSecret(t, sm, "json", `{"k":"`+canary+`"}`)
	putSecret(t, sm, "notjson", canary+`{`)
	putSecret(t, sm, "nul", canary+"\x00tail")
	putParam(t, ps, "/c/k", canary, ssmtypes.ParameterTypeSecureString)
	cases := map[string]struct {
		entry string
		code  int
		says  string
	}{
		"missing key": {`{env: X, from: "aws-sm://json#nokey"}`, exitEnv, `no field "nokey"`},
		"not JSON":    {`{env: X, from: "aws-sm://notjson#k"}`, exitEnv, "not a JSON object"},
		"NUL":         {`{env: X, from: "aws-sm://nul"}`, exitEnv, "NUL"},
		"bad prefix":  {`{from: "aws-sm://notjson", prefix: P_}`, exitEnv, "JSON"},
		"clash": {`{from: "ssm:///c/", prefix: ""}` + "\n  - " +
			`{from: "aws-sm://json", prefix: ""}`, exitEnv, "variable K is given by"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeManifest(t, dir, "version: 1\naws: {region: us-east-1, endpoint: \""+url+
				"\"}\nsecrets:\n  - "+c.entry+"\n")
			res := envwrap(t, dir, []string{"VAULT_TOKEN=" + canary},
				append([]string{"--log-level", "debug"}, childArgs("exit", "0")...)...)
			if res.code != c.code || !strings.Contains(res.stderr, c.says) {
				t.Errorf("exit %d, stderr %q; want %d and %q", res.code, res.stderr, c.code, c.says)
			}
			if strings.Contains(res.stderr+res.stdout, canary) {
				t.Errorf("the canary appeared in envwrap's output")
			}
		})
	}
}

func TestBrokenAWSConfigFailsOnlyAWSReferences(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dev.env"), []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `version: 1
aws: {endpoint: "ftp://127.0.0.1:1"}
secrets:
  - {env: A, from: "file://dev.env#A"}
  - {env: B, from: "aws-sm://anything", optional: true}
`
	writeManifest(t, dir, body)
	out := filepath.Join(dir, "report.json")
	res := envwrap(t, dir, nil, childArgs("report", out)...)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0 with the optional AWS secret skipped:\n%s", res.code, res.stderr)
	}
	if a, _ := readReport(t, out).lookup("A"); a != "1" {
		t.Errorf("A = %q, want 1", a)
	}
	writeManifest(t, dir, strings.Replace(body, ", optional: true", "", 1))
	res = envwrap(t, dir, nil, childArgs("exit", "0")...)
	if res.code != exitFetch || !strings.Contains(res.stderr, "aws-sm://anything") ||
		!strings.Contains(res.stderr, "ftp://127.0.0.1:1") {
		t.Errorf("required: exit %d, stderr %q; want %d naming the reference and endpoint",
			res.code, res.stderr, exitFetch)
	}
}

func TestEnvironmentTooLargeInTotal(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, "V%02d=%s\n", i, strings.Repeat("x", 120<<10))
	}
	if err := os.WriteFile(filepath.Join(dir, "big.env"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, "version: 1\nsecrets:\n  - {from: \"file://big.env\", prefix: \"\"}\n")
	res := envwrap(t, dir, nil, childArgs("exit", "0")...)
	if res.code != exitEnv || !strings.Contains(res.stderr, "more than the kernel takes") {
		t.Errorf("exit %d, stderr %q; want %d", res.code, res.stderr, exitEnv)
	}
}
