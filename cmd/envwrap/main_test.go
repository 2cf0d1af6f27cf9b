package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/sivchari/kumo"
)

// The test binary plays two parts besides running tests: envwrap itself
// (when ENVWRAP_TEST_AS_ENVWRAP is set) and the wrapped child (when its
// first argument is -child), as os/exec's own tests do.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-child" {
		os.Exit(child(os.Args[2:]))
	}
	if os.Getenv("ENVWRAP_TEST_AS_ENVWRAP") == "1" {
		os.Exit(run(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

// report is what the child saw.
type report struct {
	Args  []string `json:"args"`
	Env   []string `json:"env"`
	Files []string `json:"files"`
}

func child(args []string) int {
	switch args[0] {
	case "exit":
		var code int
		fmt.Sscan(args[1], &code)
		return code
	case "readfiles":
		var files []string
		for _, path := range args[2:] {
			b, err := os.ReadFile(path)
			if err != nil {
				return 97
			}
			files = append(files, string(b))
		}
		b, _ := json.Marshal(report{Files: files})
		if err := os.WriteFile(args[1], b, 0o600); err != nil {
			return 99
		}
		return 0
	case "hupcount": // write the PID, then count SIGHUPs into a file
		return hupCount(args[1], args[2])
	case "sleep":
		time.Sleep(time.Minute)
		return 0
	case "grandparent": // start a grandchild, record its PID, wait for it
		gc := exec.Command(os.Args[0], "-child", "sleep")
		if err := gc.Start(); err != nil {
			return 96
		}
		if err := os.WriteFile(args[1], []byte(fmt.Sprint(gc.Process.Pid)), 0o600); err != nil {
			return 95
		}
		_ = gc.Wait()
		return 0
	case "rotate": // see rotation_test.go
		return rotateChild(args[1:])
	case "report":
		b, _ := json.Marshal(report{Args: args[2:], Env: os.Environ()})
		if err := os.WriteFile(args[1], b, 0o600); err != nil {
			return 99
		}
		return 0
	}
	return 98
}

// hupCount writes its PID to pidFile and the number of SIGHUPs received
// so far to countFile, until SIGTERM.
func hupCount(pidFile, countFile string) int {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM)
	if err := os.WriteFile(pidFile, []byte(fmt.Sprint(os.Getpid())), 0o600); err != nil {
		return 94
	}
	n := 0
	for sig := range sigs {
		if sig == syscall.SIGTERM {
			return 0
		}
		n++
		if err := os.WriteFile(countFile, []byte(fmt.Sprint(n)), 0o600); err != nil {
			return 93
		}
	}
	return 0
}

// result is how one envwrap run ended.
type result struct {
	code   int
	stdout string
	stderr string
}

// asEnvwrap in its environment makes the test binary act as envwrap.
const asEnvwrap = "ENVWRAP_TEST_AS_ENVWRAP=1"

// testEnv is the environment of every process a test starts: its own,
// with AWS settings that keep the SDK off real hosts and the metadata
// address, no race-detector exit delay, and extra on top.
func testEnv(extra ...string) []string {
	env := append(os.Environ(), "GORACE=atexit_sleep_ms=0",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	return append(env, extra...)
}

// envwrap runs the test binary as envwrap with args, in dir.
func envwrap(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = testEnv(append([]string{asEnvwrap}, env...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running envwrap: %v", err)
	}
	return result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

// childArgs is the command line that makes the test binary the child.
func childArgs(mode ...string) []string {
	return append([]string{"--", os.Args[0], "-child"}, mode...)
}

func readReport(t *testing.T, path string) report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the child did not report: %v", err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r report) lookup(name string) (string, int) {
	var value string
	count := 0
	for _, kv := range r.Env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			value = v
			count++
		}
	}
	return value, count
}

// emulator starts the AWS emulator on 127.0.0.1 and returns its URL and
// clients for seeding it.
func emulator(t *testing.T) (string, *secretsmanager.Client, *ssm.Client) {
	t.Helper()
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	sm, ps := clients(srv.URL)
	return srv.URL, sm, ps
}

// clients are SDK clients aimed at an emulator at endpoint, with static
// test credentials.
func clients(endpoint string) (*secretsmanager.Client, *ssm.Client) {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
	ps := ssm.NewFromConfig(cfg, func(o *ssm.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
	return sm, ps
}

func putSecret(t *testing.T, sm *secretsmanager.Client, name, value string) {
	t.Helper()
	_, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func putParam(t *testing.T, ps *ssm.Client, name, value string, typ ssmtypes.ParameterType) {
	t.Helper()
	_, err := ps.PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: typ,
		Overwrite: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeManifest(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "envwrap.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
