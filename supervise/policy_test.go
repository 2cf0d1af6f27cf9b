//go:build linux

package supervise_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envwrap/envwrap/supervise"
)

const (
	// envCodes lists the exit codes of the failing helper's runs, one per
	// start; the last repeats.
	envCodes   = "ENVWRAP_SUPERVISE_CODES"
	envBackoff = "ENVWRAP_SUPERVISE_BACKOFF" // policy supervisor: Policy.Backoff
)

// Registered here rather than in the helpers table, so that the policy
// tests stay in one file.
func init() {
	helpers["failing"] = helperFailing
	helpers["policy"] = helperPolicySupervisor
}

// helperFailing appends "start PID NS" to "events", as the lifetime
// helper does, and exits with the code envCodes gives its run.
func helperFailing() int {
	data, _ := os.ReadFile(filepath.Join(os.Getenv(envDir), "events"))
	runs := strings.Count(string(data), "start ")
	reportOverlap(os.Getpid())
	appendTo("events", fmt.Sprintf("start %d %d", os.Getpid(), time.Now().UnixNano()))
	codes := strings.Fields(os.Getenv(envCodes))
	code, err := strconv.Atoi(codes[min(runs, len(codes)-1)])
	if err != nil {
		panic(err)
	}
	return code
}

// helperPolicySupervisor runs supervise.Run over a failing child with
// restarts on failure after envBackoff, and exits with its code.
func helperPolicySupervisor() int {
	backoff, err := time.ParseDuration(os.Getenv(envBackoff))
	if err != nil {
		panic(err)
	}
	s := supervise.New(supervise.Config{
		Argv:   []string{os.Args[0]},
		Env:    withEnv(os.Environ(), envMode+"=failing"),
		Logger: debugLogger(os.Stderr),
		Policy: supervise.Policy{OnFailure: true, Backoff: backoff},
	})
	code, err := s.Run(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

// starts are the start times of the children, in order.
func starts(t *testing.T, dir string) []time.Time {
	t.Helper()
	var out []time.Time
	for _, e := range readEvents(t, dir) {
		switch e.what {
		case "start":
			out = append(out, time.Unix(0, e.at))
		case "overlap":
			t.Errorf("child %d was not reaped when the next one started", e.pid)
		}
	}
	return out
}

// A failing child is started again after Backoff, doubled each time, up
// to MaxRestarts; then Run returns the status of the last run.
func TestOnFailureRestartsWithBackoff(t *testing.T) {
	dir := helperDir(t)
	const backoff = 50 * time.Millisecond
	code, err := run(t, supervise.Config{
		Argv:   []string{executable(t)},
		Env:    helperEnv("failing", dir, envCodes+"=10 11 12 13 14"),
		Policy: supervise.Policy{OnFailure: true, MaxRestarts: 3, Backoff: backoff},
	})
	if code != 13 || err != nil {
		t.Fatalf("Run returned %d, %v; want 13, the fourth run's code", code, err)
	}
	at := starts(t, dir)
	if len(at) != 4 {
		t.Fatalf("%d starts, want 4: the first and 3 restarts", len(at))
	}
	for i := 1; i < len(at); i++ {
		gap, want := at[i].Sub(at[i-1]), backoff<<(i-1)
		if gap < want || gap > want+2*time.Second {
			t.Errorf("restart %d came %v after the run before; backoff is %v", i, gap, want)
		}
	}
}

// A child that exits 0 is done: on-failure does not start it again.
func TestOnFailureLeavesSuccessAlone(t *testing.T) {
	dir := helperDir(t)
	code, err := run(t, supervise.Config{
		Argv:   []string{executable(t)},
		Env:    helperEnv("failing", dir, envCodes+"=0"),
		Policy: supervise.Policy{OnFailure: true, Backoff: time.Millisecond},
	})
	if code != 0 || err != nil {
		t.Fatalf("Run returned %d, %v", code, err)
	}
	if n := len(starts(t, dir)); n != 1 {
		t.Errorf("%d starts, want 1", n)
	}
}

// A child that dies of a signal has failed too, and is restarted.
func TestOnFailureRestartsAfterASignal(t *testing.T) {
	dir := helperDir(t)
	code, err := run(t, supervise.Config{
		Argv: []string{executable(t)},
		Env:  helperEnv("die", dir, envSignal+"=1"),
		Policy: supervise.Policy{OnFailure: true, MaxRestarts: 2,
			Backoff: time.Millisecond},
	})
	if code != 129 || err != nil {
		t.Fatalf("Run returned %d, %v; want 129 (SIGHUP)", code, err)
	}
	if pids, _ := filepath.Glob(filepath.Join(dir, "pid.*")); len(pids) != 3 {
		t.Errorf("%d children ran, want 3", len(pids))
	}
}

// SIGTERM to envwrap while it waits to restart a failed child ends Run
// at once, with the failed child's status, and starts nothing.
func TestTermDuringBackoffStartsNothing(t *testing.T) {
	t.Parallel()
	dir := helperDir(t)
	log, err := os.Create(filepath.Join(dir, "supervisor.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	const backoff = 5 * time.Second
	cmd := exec.Command(executable(t))
	cmd.Env = helperEnv("policy", dir, envBackoff+"="+backoff.String(), envCodes+"=7")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	waitFor(t, "the supervisor to wait before a restart", func() bool {
		return strings.Contains(readFile(t, dir, "supervisor.log"), "child failed; restarting it")
	})
	asked := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	took := time.Since(asked)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if code := cmd.ProcessState.ExitCode(); code != 7 {
		t.Errorf("the supervisor exited %d, want 7:\n%s", code, readFile(t, dir, "supervisor.log"))
	}
	if took > backoff/2 {
		t.Errorf("the supervisor took %v to stop; it waited out the backoff", took)
	}
	if n := len(starts(t, dir)); n != 1 {
		t.Errorf("%d children started, want 1", n)
	}
}

// A restart asked for while a failed child waits for its backoff starts
// the child at once, with the new environment.
func TestRestartDuringBackoffStartsAtOnce(t *testing.T) {
	dir := helperDir(t)
	const backoff = 5 * time.Second
	s := supervise.New(supervise.Config{
		Argv:   []string{executable(t)},
		Env:    helperEnv("failing", dir, envCodes+"=7"),
		Logger: testLogger(t),
		Policy: supervise.Policy{OnFailure: true, Backoff: backoff},
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := runAsync(ctx, s)
	waitFor(t, "the failed child to be reaped", func() bool {
		return len(starts(t, dir)) == 1 && errors.Is(s.Signal(0), supervise.ErrNotRunning)
	})

	env := helperEnv("lifetime", dir, envSignal+"=15", "GENERATION=2")
	asked := time.Now()
	if err := s.Restart(env); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(asked); took > backoff/2 {
		t.Errorf("Restart took %v; it waited for the backoff", took)
	}
	second := waitStarts(t, dir, 2)
	if got, want := readFile(t, dir, "env."+strconv.Itoa(second)),
		strings.Join(env, "\x00"); got != want {
		t.Errorf("the new child's env: got %q, want %q", got, want)
	}

	cancel()
	if r := <-done; r.code != 0 || r.err != nil {
		t.Errorf("Run returned %d, %v; want 0", r.code, r.err)
	}
	if n := len(starts(t, dir)); n != 2 {
		t.Errorf("%d children started, want 2", n)
	}
}
