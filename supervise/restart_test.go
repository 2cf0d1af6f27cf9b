//go:build linux

package supervise_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/envwrap/envwrap/supervise"
)

// event is a line of the lifetime helper's "events" file.
type event struct {
	what string // start, exit or overlap
	pid  int
	at   int64 // Unix nanoseconds; 0 for overlap
}

func readEvents(t *testing.T, dir string) []event {
	t.Helper()
	var events []event
	for line := range strings.Lines(readFile(t, dir, "events")) {
		f := strings.Fields(line)
		e := event{what: f[0]}
		e.pid, _ = strconv.Atoi(f[1])
		if len(f) > 2 {
			e.at, _ = strconv.ParseInt(f[2], 10, 64)
		}
		events = append(events, e)
	}
	return events
}

// waitStarts waits until n children have recorded their start, and returns
// the PID of the last.
func waitStarts(t *testing.T, dir string, n int) int {
	t.Helper()
	pid := 0
	waitFor(t, strconv.Itoa(n)+" children to start", func() bool {
		starts := 0
		for _, e := range readEvents(t, dir) {
			if e.what == "start" {
				starts++
				pid = e.pid
			}
		}
		return starts >= n
	})
	return pid
}

// restartFixture runs a lifetime child in the test process with SIGUSR2 as
// its stop signal.
type restartFixture struct {
	dir  string
	s    *supervise.Supervisor
	stop context.CancelFunc
	done <-chan result
	once sync.Once
	last result
}

// signals are the names of the signals that child pid recorded.
func (f *restartFixture) signals(t *testing.T, pid int) string {
	t.Helper()
	return readFile(t, f.dir, "signals."+strconv.Itoa(pid))
}

// wait returns what Run returned, waiting for it once.
func (f *restartFixture) wait() result {
	f.once.Do(func() { f.last = <-f.done })
	return f.last
}

func startRestartFixture(t *testing.T, timeout time.Duration, env ...string) *restartFixture {
	t.Helper()
	dir := helperDir(t)
	env = append(helperEnv("lifetime", dir, envSignal+"=12"), env...)
	s := supervise.New(supervise.Config{
		Argv:        []string{executable(t)},
		Env:         env,
		StopSignal:  syscall.SIGUSR2,
		StopTimeout: timeout,
		Logger:      testLogger(t),
	})
	ctx, cancel := context.WithCancel(t.Context())
	f := &restartFixture{dir: dir, s: s, stop: cancel, done: runAsync(ctx, s)}
	t.Cleanup(func() {
		cancel()
		f.wait()
	})
	// Signal with 0 checks that the child exists, once Run serves requests.
	waitFor(t, "Run to serve requests", func() bool { return s.Signal(0) == nil })
	return f
}

func TestRestart(t *testing.T) {
	f := startRestartFixture(t, 5*time.Second)
	first := waitStarts(t, f.dir, 1)
	if err := f.s.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SIGHUP", func() bool {
		return f.signals(t, first) != ""
	})

	newEnv := helperEnv("lifetime", f.dir, envSignal+"=12", "GENERATION=2\n")
	if err := f.s.Restart(newEnv); err != nil {
		t.Fatal(err)
	}
	second := waitStarts(t, f.dir, 2)
	if second == first {
		t.Fatal("no new child")
	}
	assertSequential(t, readEvents(t, f.dir), first, second)
	if got := f.signals(t, first); got != "SIGHUP\nSIGUSR2\n" {
		t.Errorf("old child got %q, want SIGHUP then SIGUSR2", got)
	}
	if got, want := readFile(t, f.dir, "env."+strconv.Itoa(second)),
		strings.Join(newEnv, "\x00"); got != want {
		t.Errorf("new child's env: got %q, want %q", got, want)
	}

	// Signal reaches the new child, and cancelling stops it.
	if err := f.s.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SIGHUP to the new child", func() bool {
		return f.signals(t, second) == "SIGHUP\n"
	})
	f.stop()
	if r := f.wait(); r.code != 0 || r.err != nil {
		t.Fatalf("got %d, %v; want 0", r.code, r.err)
	}
	if got := f.signals(t, second); got != "SIGHUP\nSIGUSR2\n" {
		t.Errorf("new child got %q", got)
	}
}

// assertSequential checks that the first child exited, and was reaped,
// before the second started.
func assertSequential(t *testing.T, events []event, first, second int) {
	t.Helper()
	var exited, started int64
	for _, e := range events {
		switch {
		case e.what == "overlap":
			t.Errorf("child %d was not reaped when the next one started", e.pid)
		case e.what == "exit" && e.pid == first:
			exited = e.at
		case e.what == "start" && e.pid == second:
			started = e.at
		}
	}
	if exited == 0 || started <= exited {
		t.Errorf("old child exited at %d, new one started at %d: %+v", exited, started, events)
	}
}

// A child that ignores its stop signal is killed after StopTimeout, and
// only then, once reaped, does the new one start.
func TestRestartKillsStubbornChild(t *testing.T) {
	const timeout = 300 * time.Millisecond
	f := startRestartFixture(t, timeout, envIgnore+"=1")
	first := waitStarts(t, f.dir, 1)

	asked := time.Now()
	if err := f.s.Restart(helperEnv("lifetime", f.dir, envSignal+"=12")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(asked); took < timeout {
		t.Errorf("restarted after %v, before the stop timeout of %v", took, timeout)
	}
	second := waitStarts(t, f.dir, 2)
	for _, e := range readEvents(t, f.dir) {
		if e.what == "overlap" {
			t.Errorf("child %d was not reaped when the next one started", e.pid)
		}
	}
	waitGone(t, first, false)
	if err := f.s.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SIGHUP to the new child", func() bool {
		return f.signals(t, second) == "SIGHUP\n"
	})
}
