//go:build linux

package supervise_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envwrap/envwrap/supervise"
)

// Tests that call Run in the test process are not parallel: Run reaps every
// child of the process, so two at once, or one beside exec.Cmd.Wait, would
// steal each other's children. Go runs all of them before any parallel
// test, and the parallel ones run their supervisors in processes of their
// own.

// testLogger shows Run's log, at debug level, with a failed test's output.
func testLogger(t *testing.T) *slog.Logger { return debugLogger(t.Output()) }

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type result struct {
	code int
	err  error
}

// runAsync calls Run in a goroutine of its own.
func runAsync(ctx context.Context, s *supervise.Supervisor) <-chan result {
	done := make(chan result, 1)
	go func() {
		code, err := s.Run(ctx)
		done <- result{code, err}
	}()
	return done
}

// run calls Run in the test process, with a deadline in case it hangs.
func run(t *testing.T, cfg supervise.Config) (int, error) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	return supervise.New(cfg).Run(ctx)
}

// Each case runs in supervisors of their own, in parallel, each starting
// children one after the other.
func TestExitCodes(t *testing.T) {
	const runs, shards = 200, 2
	tests := []struct {
		name string
		env  []string
		want int
	}{
		{"exit 0", []string{envChild + "=exit", envCode + "=0"}, 0},
		{"exit 7", []string{envChild + "=exit", envCode + "=7"}, 7},
		{"SIGSEGV", []string{envChild + "=die", envSignal + "=11"}, 139},
		{"SIGTERM", []string{envChild + "=die", envSignal + "=15"}, 143},
	}
	for _, tt := range tests {
		for shard := range shards {
			t.Run(fmt.Sprintf("%s/%d", tt.name, shard), func(t *testing.T) {
				t.Parallel()
				dir := helperDir(t)
				cmd := exec.Command(executable(t))
				cmd.Env = append(helperEnv("repeat", dir, tt.env...),
					envRuns+"="+strconv.Itoa(runs/shards))
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				want := fmt.Sprintf("%d %d\n", tt.want, runs/shards)
				if got := readFile(t, dir, "codes"); got != want {
					t.Fatalf("got codes and counts:\n%swant:\n%s", got, want)
				}
			})
		}
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		argv0 string
		want  int
	}{
		{"envwrap-test-no-such-command", 127},
		{filepath.Join(dir, "missing"), 127},
		{plain, 126},
		{dir, 126},
	}
	for _, tt := range tests {
		code, err := run(t, supervise.Config{Argv: []string{tt.argv0}})
		var se *supervise.StartError
		if !errors.As(err, &se) {
			t.Fatalf("%s: got %d, %v; want a StartError", tt.argv0, code, err)
		}
		if code != tt.want || se.Code != tt.want || se.Path != tt.argv0 {
			t.Errorf("%s: got code %d, %+v; want %d", tt.argv0, code, se, tt.want)
		}
		if !strings.HasPrefix(err.Error(), "supervise: ") ||
			!strings.Contains(err.Error(), strconv.Quote(tt.argv0)) {
			t.Errorf("%s: message %q does not name the command", tt.argv0, err)
		}
	}
}

func TestArgvAndEnvReachChildVerbatim(t *testing.T) {
	dir := helperDir(t)
	argv := []string{executable(t), "-x", "--y", "", "héllo ✓", "a b"}
	env := helperEnv("dump", dir,
		"TRAILING=line\n", "EMPTY=", "UNICODE=héllo ✓", "SPACES= a  b ", "EQ=x=y")
	var logs bytes.Buffer
	code, err := run(t, supervise.Config{Argv: argv, Env: env, Logger: debugLogger(&logs)})
	if code != 0 || err != nil {
		t.Fatalf("got %d, %v", code, err)
	}
	if got, want := readFile(t, dir, "args"), strings.Join(argv[1:], "\x00"); got != want {
		t.Errorf("args: got %q, want %q", got, want)
	}
	if got, want := readFile(t, dir, "env"), strings.Join(env, "\x00"); got != want {
		t.Errorf("env: got %q, want %q", got, want)
	}
	for _, secret := range []string{"TRAILING", "héllo", "--y"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log shows %q:\n%s", secret, logs.String())
		}
	}
}

// A signal that arrives before the child exists waits in the channel and
// reaches the child once it has started.
func TestSignalBeforeStartIsDelivered(t *testing.T) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGCHLD)
	defer signal.Stop(sigs)
	sigs <- syscall.SIGTERM

	code, err := run(t, supervise.Config{
		Argv:    []string{executable(t)},
		Env:     helperEnv("wait", helperDir(t)),
		Signals: sigs,
	})
	if code != 143 || err != nil {
		t.Fatalf("got %d, %v; want 143", code, err)
	}
}

func TestCancelledBeforeRunStartsNothing(t *testing.T) {
	dir := helperDir(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s := supervise.New(supervise.Config{
		Argv: []string{executable(t)}, Env: helperEnv("exit", dir, envCode+"=0"),
	})
	code, err := s.Run(ctx)
	if code != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %d, %v; want 1 and context.Canceled", code, err)
	}
	if pids, _ := filepath.Glob(filepath.Join(dir, "pid.*")); len(pids) != 0 {
		t.Fatalf("a child started: %v", pids)
	}
	if _, err := s.Run(t.Context()); err == nil {
		t.Fatal("a second Run did not fail")
	}
}

// Cancelling ctx sends StopSignal once and returns the child's code.
func TestCancelStopsChild(t *testing.T) {
	dir := helperDir(t)
	s := supervise.New(supervise.Config{
		Argv:       []string{executable(t)},
		Env:        helperEnv("record", dir, "GODEBUG=asyncpreemptoff=1"),
		StopSignal: syscall.SIGINT,
		Logger:     testLogger(t),
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := runAsync(ctx, s)
	waitFile(t, dir, "ready")
	cancel()
	if r := <-done; r.code != 0 || r.err != nil {
		t.Fatalf("got %d, %v; want 0", r.code, r.err)
	}
	if got := readFile(t, dir, "signals"); got != "SIGINT\n" {
		t.Errorf("child got %q, want SIGINT once", got)
	}
}

// A child that ignores StopSignal is killed, with its process group, once
// StopTimeout has passed.
func TestStopTimeoutKillsProcessGroup(t *testing.T) {
	dir := helperDir(t)
	const timeout = 300 * time.Millisecond
	s := supervise.New(supervise.Config{
		Argv:        []string{executable(t)},
		Env:         helperEnv("ignore", dir),
		StopTimeout: timeout,
		Logger:      testLogger(t),
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := runAsync(ctx, s)
	pids := waitFile(t, dir, "pids")
	stopped := time.Now()
	cancel()
	r := <-done
	if took := time.Since(stopped); took < timeout {
		t.Errorf("killed after %v, before the stop timeout of %v", took, timeout)
	}
	if r.code != 137 || r.err != nil {
		t.Fatalf("got %d, %v; want 137", r.code, r.err)
	}
	assertAllGone(t, pids)
}

// assertAllGone checks that the child and grandchild named in a "pids"
// file no longer exist. The grandchild may have been handed to the test
// process, a subreaper, after Run returned; the test reaps it then.
func assertAllGone(t *testing.T, pids string) {
	t.Helper()
	fields := strings.Fields(pids)
	if len(fields) != 2 {
		t.Fatalf("bad pids file %q", pids)
	}
	for _, f := range fields {
		pid, _ := strconv.Atoi(f)
		waitGone(t, pid, true)
	}
}

// An orphan handed to the supervisor is reaped while the child still runs.
func TestOrphanIsReaped(t *testing.T) {
	dir := helperDir(t)
	s := supervise.New(supervise.Config{
		Argv:   []string{executable(t)},
		Env:    helperEnv("orphan", dir),
		Logger: testLogger(t),
	})
	done := runAsync(t.Context(), s)
	orphan, _ := strconv.Atoi(waitFile(t, dir, "grandchild"))
	waitFor(t, "the orphan to be handed to the test process", func() bool {
		_, ppid, _ := procStat(orphan)
		return ppid == os.Getpid()
	})
	touch(t, dir, "release")
	waitGone(t, orphan, false) // the test must not reap it: Run does
	touch(t, dir, "finish")
	if r := <-done; r.code != 0 || r.err != nil {
		t.Fatalf("got %d, %v; want 0", r.code, r.err)
	}
}

func TestSignalAndRestartWithoutChild(t *testing.T) {
	dir := helperDir(t)
	s := supervise.New(supervise.Config{
		Argv: []string{executable(t)}, Env: helperEnv("exit", dir, envCode+"=0"),
	})
	if err := s.Signal(syscall.SIGHUP); !errors.Is(err, supervise.ErrNotRunning) {
		t.Errorf("Signal before Run: got %v", err)
	}
	if code, err := s.Run(t.Context()); code != 0 || err != nil {
		t.Fatalf("got %d, %v", code, err)
	}
	if err := s.Restart(nil); !errors.Is(err, supervise.ErrNotRunning) {
		t.Errorf("Restart after Run: got %v", err)
	}
}
