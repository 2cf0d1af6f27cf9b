package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/envwrap/envwrap/manifest"
)

// started is a background process of the test's, stopped at cleanup.
func started(t *testing.T, dir string, env []string, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = testEnv(env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if strings.Contains(stderr.String(), canary) {
			t.Errorf("%s printed a secret value", filepath.Base(name))
		}
	})
	return cmd
}

// eventually polls cond every 20ms until it holds or 15s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readInt(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// answers is a condition for eventually: path on addr answers code.
func answers(addr, path string, code int) func() bool {
	return func() bool {
		got, _ := get("http://" + addr + path)
		return got == code
	}
}

// TestAgentSignalsTheApp runs envwrap agent beside a target process found
// by pid file and, separately, by name: a change rewrites the file and
// the target gets one SIGHUP, keeping its PID.
func TestAgentSignalsTheApp(t *testing.T) {
	for _, how := range []string{"pid_file", "process_name"} {
		t.Run(how, func(t *testing.T) { agentSignals(t, how) })
	}
}

func agentSignals(t *testing.T, how string) {
	url, sm, _ := emulator(t)
	name := "agent/" + how
	putSecret(t, sm, name, `{"password":"`+canary+`-1"}`)
	dir := t.TempDir()
	// A copy of the test binary with a name of its own, so that looking
	// it up by name finds it and not the test runner.
	target := filepath.Join(dir, "ewtarget")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, self, 0o755); err != nil {
		t.Fatal(err)
	}
	pidFile, hups := filepath.Join(dir, "app.pid"), filepath.Join(dir, "hups")
	app := started(t, dir, nil, target, "-child", "hupcount", pidFile, hups)
	eventually(t, "the app's pid file", func() bool { return readInt(pidFile) == app.Process.Pid })

	notify := "pid_file: " + pidFile
	if how == "process_name" {
		notify = "process_name: ewtarget"
	}
	listen := freePort(t)
	writeManifest(t, dir, `version: 1
aws: {region: us-east-1, endpoint: "`+url+`"}
secrets:
  - {from: "aws-sm://`+name+`", as: db, refresh: 200ms}
templates:
  - {contents: "password={{ .db.password }}", destination: app.conf, on_change: "signal:SIGHUP"}
agent:
  notify: {`+notify+`}
health: {listen: "`+listen+`"}
`)
	agent := started(t, dir, []string{asEnvwrap}, os.Args[0],
		"--log-level", "debug", "agent")
	conf := filepath.Join(dir, "app.conf")
	eventually(t, "the first render", func() bool {
		b, _ := os.ReadFile(conf)
		return string(b) == "password="+canary+"-1"
	})
	eventually(t, "readiness", answers(listen, "/readyz", 200))
	// The agent has no child to pass SIGHUP to; it must not die of it.
	if err := agent.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}

	_, err = sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(name), SecretString: aws.String(`{"password":"` + canary + `-2"}`)})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "one SIGHUP", func() bool { return readInt(hups) == 1 })
	if b, _ := os.ReadFile(conf); string(b) != "password="+canary+"-2" {
		t.Errorf("app.conf holds the wrong value after the change")
	}
	time.Sleep(600 * time.Millisecond) // three more refreshes, no change
	if n := readInt(hups); n != 1 {
		t.Errorf("the app got %d SIGHUPs, want 1", n)
	}
	if err := syscall.Kill(app.Process.Pid, 0); err != nil {
		t.Errorf("the app's PID %d is gone: %v", app.Process.Pid, err)
	}
	_, metrics := get("http://" + listen + "/metrics")
	for _, series := range []string{
		`envwrap_rotations_total 1`,
		`envwrap_fetches_total{backend="aws-sm",result="ok"}`,
		`envwrap_api_calls_total{backend="aws-sm",operation="DescribeSecret",result="ok"}`,
		`envwrap_secret_last_success_timestamp_seconds{ref="aws-sm://` + name + `"}`,
		`envwrap_ready 1`,
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("metrics lack %s", series)
		}
	}
	if strings.Contains(metrics, canary) {
		t.Error("metrics show a secret value")
	}
	if err := agent.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := agent.Wait(); err != nil {
		t.Errorf("the agent did not stop cleanly on SIGTERM: %v", err)
	}
}

// TestReadinessWaitsForTheFirstRender keeps the backend unreachable:
// readiness answers 503 while envwrap retries, and liveness 200.
func TestReadinessWaitsForTheFirstRender(t *testing.T) {
	dir := t.TempDir()
	listen := freePort(t)
	writeManifest(t, dir, `version: 1
aws: {region: us-east-1, endpoint: "http://`+freePort(t)+`"}
secrets:
  - {from: "aws-sm://never", as: x}
templates:
  - {contents: "{{ .x }}", destination: out}
agent:
  command: ["true"]
health: {}
`)
	started(t, dir, []string{asEnvwrap}, os.Args[0], "--listen", listen,
		"--fetch-timeout", "1m", "agent")
	eventually(t, "liveness", answers(listen, "/livez", 200))
	if code, _ := get("http://" + listen + "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d before the first render, want 503", code)
	}
	if res := envwrap(t, dir, nil, "probe", "http://"+listen+"/readyz"); res.code != 1 {
		t.Errorf("probe of a 503 exited %d, want 1", res.code)
	}
	if res := envwrap(t, dir, nil, "probe", "http://"+listen+"/livez"); res.code != 0 {
		t.Errorf("probe of a 200 exited %d, want 0", res.code)
	}
}

func TestHealthListensOnLoopbackByDefault(t *testing.T) {
	dir := t.TempDir()
	parsed, err := manifest.Load(writeManifest(t, dir, "version: 1\nhealth: {}\n"))
	if err != nil || parsed.Health.Listen != "127.0.0.1:9102" {
		t.Errorf("health: {} listens on %q, want 127.0.0.1:9102 (%v)", parsed.Health.Listen, err)
	}
}
