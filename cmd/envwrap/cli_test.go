package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestManifestErrorsExit65WithPosition(t *testing.T) {
	cases := map[string]string{
		"version: 1\nsecrets:\n  - {env: A, from: \"file://x\", colour: red}\n": "" +
			"envwrap.yaml:3:32: secrets[0].colour: unknown key",
		"version: 1\ndefaults:\n  on_change: reboot\n": "envwrap.yaml:3:14: " +
			"defaults.on_change: \"reboot\" is not allowed; use one of: restart",
		"version: 1\nsecrets:\n  - {env: A, from: \"file://x\"}\n" +
			"  - {env: A, from: \"file://y\"}\n": "envwrap.yaml:4:5: secrets[1]: " +
			"variable A is also set by secrets[0] at line 3",
	}
	for body, want := range cases {
		dir := t.TempDir()
		writeManifest(t, dir, body)
		res := envwrap(t, dir, nil, childArgs("exit", "0")...)
		if res.code != exitManifest || !strings.Contains(res.stderr, want) {
			t.Errorf("exit %d, stderr %q; want %d and %q", res.code, res.stderr,
				exitManifest, want)
		}
	}
}

func TestManifestLookup(t *testing.T) {
	dir := t.TempDir()
	res := envwrap(t, dir, nil, childArgs("exit", "0")...)
	if res.code != exitNoConfig || !strings.Contains(res.stderr, "envwrap.yaml does not exist") {
		t.Errorf("no manifest: exit %d, %q", res.code, res.stderr)
	}
	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(other, []byte("version: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		append([]string{"-c", other}, childArgs("exit", "3")...),
		append([]string{"--config", other}, childArgs("exit", "3")...),
	} {
		if res := envwrap(t, dir, nil, args...); res.code != 3 {
			t.Errorf("%v: exit %d, want the child's 3:\n%s", args[:2], res.code, res.stderr)
		}
	}
	res = envwrap(t, dir, []string{"ENVWRAP_CONFIG=" + other}, childArgs("exit", "4")...)
	if res.code != 4 {
		t.Errorf("$ENVWRAP_CONFIG: exit %d, want 4:\n%s", res.code, res.stderr)
	}
}

func TestCommandThatCannotRun(t *testing.T) {
	dir := t.TempDir()
	writeManifest(t, dir, "version: 1\n")
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := envwrap(t, dir, nil, "--", "no-such-command-envwrap"); res.code != 127 {
		t.Errorf("missing command: exit %d, want 127:\n%s", res.code, res.stderr)
	}
	if res := envwrap(t, dir, nil, "--", plain); res.code != 126 {
		t.Errorf("non-executable file: exit %d, want 126:\n%s", res.code, res.stderr)
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	res := envwrap(t, dir, nil, "--help")
	if res.code != 0 || !strings.Contains(res.stdout, "EXIT STATUS") {
		t.Errorf("--help: exit %d, output lacks EXIT STATUS", res.code)
	}
	for _, args := range [][]string{{}, {"app"}, {"--bogus"}, {"--"}, {"--log-level", "loud"}} {
		if res := envwrap(t, dir, nil, args...); res.code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, res.code, exitUsage)
		}
	}
	res = envwrap(t, dir, nil, "version")
	line := regexp.MustCompile(`^envwrap \S+ \(commit \S+, go1\.\S+ \S+/\S+\)\n$`)
	if res.code != 0 || !line.MatchString(res.stdout) {
		t.Errorf("version printed %q", res.stdout)
	}
}

func TestCheckPrintsNamesNotValues(t *testing.T) {
	dir := t.TempDir()
	body := "A=" + canary + "\nB=two\n"
	if err := os.WriteFile(filepath.Join(dir, "dev.env"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, "version: 1\nsecrets:\n  - {from: \"file://dev.env\", prefix: DEV_}\n")
	res := envwrap(t, dir, nil, "check")
	if res.code != 0 || !strings.Contains(res.stdout, "valid, 1 secrets") {
		t.Errorf("check: exit %d, %q", res.code, res.stdout)
	}
	res = envwrap(t, dir, nil, "check", "--resolve")
	if res.code != 0 || !strings.Contains(res.stdout, "DEV_A") ||
		!strings.Contains(res.stdout, "DEV_B") {
		t.Errorf("check --resolve: exit %d, %q", res.code, res.stdout)
	}
	if strings.Contains(res.stdout+res.stderr, canary) {
		t.Error("check --resolve printed a secret value")
	}
	writeManifest(t, dir, "version: 1\nsecrets:\n  - {from: \"file://gone.env\", prefix: X_}\n")
	if res := envwrap(t, dir, nil, "check", "--resolve"); res.code != exitFetch {
		t.Errorf("check --resolve with a missing file: exit %d, want %d", res.code, exitFetch)
	}
}

// TestStopReachesWhatTheChildLeft stops envwrap while its child waits for
// a grandchild, and checks that the grandchild does not outlive envwrap.
func TestStopReachesWhatTheChildLeft(t *testing.T) {
	dir := t.TempDir()
	writeManifest(t, dir, "version: 1\nprocess: {stop_timeout: 5s}\n")
	pidFile := filepath.Join(dir, "grandchild.pid")
	cmd := exec.Command(os.Args[0], childArgs("grandparent", pidFile)...)
	cmd.Dir = dir
	cmd.Env = testEnv(asEnvwrap)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var gc int
	deadline := time.Now().Add(10 * time.Second)
	for gc == 0 && time.Now().Before(deadline) {
		if b, err := os.ReadFile(pidFile); err == nil {
			gc, _ = strconv.Atoi(string(b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if gc == 0 {
		_ = cmd.Process.Kill()
		t.Fatal("the grandchild never started")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("envwrap exited %d, want 143", code)
	}
	if err := syscall.Kill(gc, 0); err == nil {
		_ = syscall.Kill(gc, syscall.SIGKILL)
		t.Errorf("grandchild %d outlived envwrap", gc)
	}
}

func TestEnvCommandPrintsForEval(t *testing.T) {
	dir := t.TempDir()
	body := "A=it's $HOME\nB=two\n"
	if err := os.WriteFile(filepath.Join(dir, "dev.env"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, "version: 1\nsecrets:\n  - {from: \"file://dev.env\", prefix: DEV_}\n")
	res := envwrap(t, dir, nil, "env")
	want := "export DEV_A='it'\\''s $HOME'\nexport DEV_B='two'\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("env: exit %d, stdout %q; want %q", res.code, res.stdout, want)
	}
	res = envwrap(t, dir, nil, "env", "--format", "json")
	if res.code != 0 || res.stdout != `{"DEV_A":"it's $HOME","DEV_B":"two"}`+"\n" {
		t.Errorf("env --format json: exit %d, stdout %q", res.code, res.stdout)
	}
	if strings.Contains(res.stderr, "two") {
		t.Error("env wrote a value to stderr")
	}
	if res := envwrap(t, dir, nil, "env", "--format", "xml"); res.code != exitUsage {
		t.Errorf("env --format xml: exit %d, want %d", res.code, exitUsage)
	}
}
