//go:build linux

package supervise_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests signal a supervisor process from outside, as a container
// runtime or a shell would, and read what its child recorded.

func TestTerminatingSignalForwardedOnce(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			t.Parallel()
			dir := helperDir(t)
			s := startSupervisor(t, dir, "record", 5*time.Second, nil)
			waitFile(t, dir, "ready")
			s.signal(sig)
			if code := s.wait(); code != 0 {
				t.Fatalf("supervisor exited %d, want the child's 0", code)
			}
			want := unix.SignalName(sig) + "\n"
			if got := readFile(t, dir, "signals"); got != want {
				t.Fatalf("child got %q, want %q", got, want)
			}
		})
	}
}

// SIGHUP and SIGUSR1 arrive once each; SIGCHLD and SIGURG, which the
// supervisor also gets from the kernel and its own runtime, never do.
func TestOtherSignalsForwardedOnce(t *testing.T) {
	t.Parallel()
	dir := helperDir(t)
	s := startSupervisor(t, dir, "record", 5*time.Second, nil)
	waitFile(t, dir, "ready")

	s.signal(syscall.SIGHUP)
	waitSignals(t, dir, "SIGHUP\n")
	s.signal(syscall.SIGCHLD)
	s.signal(syscall.SIGURG)
	s.signal(syscall.SIGUSR1)
	waitSignals(t, dir, "SIGHUP\nSIGUSR1\n")
	s.signal(syscall.SIGTERM)
	if code := s.wait(); code != 0 {
		t.Fatalf("supervisor exited %d, want the child's 0", code)
	}
	want := "SIGHUP\nSIGUSR1\nSIGTERM\n"
	if got := readFile(t, dir, "signals"); got != want {
		t.Fatalf("child got %q, want %q", got, want)
	}
}

// waitSignals waits until the child has recorded at least len(want) bytes
// of signal names, and fails unless they are want.
func waitSignals(t *testing.T, dir, want string) {
	t.Helper()
	var got string
	waitFor(t, "the child to record "+strconv.Quote(want), func() bool {
		got = readFile(t, dir, "signals")
		return len(got) >= len(want)
	})
	if got != want {
		t.Fatalf("child got %q, want %q", got, want)
	}
}

// SIGTERM from outside starts the stop timeout: a child that ignores it is
// killed with its process group, and nothing is left.
func TestIgnoredTerminateEndsInKill(t *testing.T) {
	t.Parallel()
	dir := helperDir(t)
	const timeout = 300 * time.Millisecond
	s := startSupervisor(t, dir, "ignore", timeout, nil)
	pids := waitFile(t, dir, "pids")
	sent := time.Now()
	s.signal(syscall.SIGTERM)
	code := s.wait()
	if took := time.Since(sent); took < timeout {
		t.Errorf("killed after %v, before the stop timeout of %v", took, timeout)
	}
	if code != 137 {
		t.Fatalf("supervisor exited %d, want 137", code)
	}
	assertAllGone(t, pids)
}

// An orphan handed to a supervisor process is reaped there: no zombie
// stays behind while the child runs on.
func TestOrphanReapedBySupervisorProcess(t *testing.T) {
	t.Parallel()
	dir := helperDir(t)
	s := startSupervisor(t, dir, "orphan", 5*time.Second, nil)
	orphan, _ := strconv.Atoi(waitFile(t, dir, "grandchild"))
	waitFor(t, "the orphan to be handed to the supervisor", func() bool {
		_, ppid, _ := procStat(orphan)
		return ppid == s.pid()
	})
	touch(t, dir, "release")
	waitGone(t, orphan, false)
	touch(t, dir, "finish")
	if code := s.wait(); code != 0 {
		t.Fatalf("supervisor exited %d, want 0", code)
	}
}

// At a terminal, Ctrl-C reaches the child once: the child's process group
// is the foreground one, and the supervisor, in the background, gets none
// to forward.
func TestCtrlCAtTerminalReachesChildOnce(t *testing.T) {
	t.Parallel()
	dir := helperDir(t)
	master, tty := openPTY(t)
	s := startSupervisor(t, dir, "record", 5*time.Second, func(cmd *exec.Cmd) {
		cmd.Stdin = tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	})
	waitFile(t, dir, "ready")
	if _, err := master.Write([]byte{0x03}); err != nil { // VINTR, Ctrl-C
		t.Fatal(err)
	}
	if code := s.wait(); code != 0 {
		t.Fatalf("supervisor exited %d, want the child's 0", code)
	}
	if got := readFile(t, dir, "signals"); got != "SIGINT\n" {
		t.Fatalf("child got %q, want SIGINT once", got)
	}
	if log := readFile(t, dir, "supervisor.log"); !strings.Contains(log, "foreground=true") {
		t.Fatalf("child did not take the foreground:\n%s", log)
	}
}

// Ctrl-Z stops the child and, so that the shell sees its job stopped, the
// supervisor. Continued, both go on, and the child keeps the terminal.
func TestCtrlZStopsTheJob(t *testing.T) {
	t.Parallel()
	dir := helperDir(t)
	master, tty := openPTY(t)
	s := startSupervisor(t, dir, "wait", 5*time.Second, func(cmd *exec.Cmd) {
		cmd.Stdin = tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	})
	child := helperPid(t, dir, "wait")
	if _, err := master.Write([]byte{0x1a}); err != nil { // VSUSP, Ctrl-Z
		t.Fatal(err)
	}
	waitState(t, child, true)
	waitState(t, s.pid(), true)

	s.signal(syscall.SIGCONT) // as the shell's bg does
	waitState(t, s.pid(), false)
	waitState(t, child, false)
	if _, err := master.Write([]byte{0x03}); err != nil { // VINTR, Ctrl-C
		t.Fatal(err)
	}
	if code := s.wait(); code != 128+int(syscall.SIGINT) {
		t.Fatalf("supervisor exited %d, want 130", code)
	}
}

// helperPid waits for the helper running mode to start and returns its PID.
func helperPid(t *testing.T, dir, mode string) int {
	t.Helper()
	pid := 0
	waitFor(t, mode+" to start", func() bool {
		names, _ := filepath.Glob(filepath.Join(dir, "pid.*"))
		for _, name := range names {
			if data, _ := os.ReadFile(name); string(data) == mode {
				pid, _ = strconv.Atoi(strings.TrimPrefix(filepath.Ext(name), "."))
			}
		}
		return pid != 0
	})
	return pid
}

// waitState waits until pid is stopped, or until it is not.
func waitState(t *testing.T, pid int, stopped bool) {
	t.Helper()
	waitFor(t, fmt.Sprintf("process %d stopped=%v", pid, stopped), func() bool {
		state, _, _ := procStat(pid)
		return (state == 'T') == stopped
	})
}

// openPTY opens a new pseudo-terminal and returns its master and its
// terminal end.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join("/dev/pts", strconv.Itoa(n))
	tty, err = os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}
