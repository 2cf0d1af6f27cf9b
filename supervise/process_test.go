//go:build linux

package supervise_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// patience is how long a test waits for something that should happen in
// milliseconds; it is generous for -race on a busy machine.
const patience = 10 * time.Second

func executable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// noExitSleep stops a -race helper from sleeping a second before it exits.
const noExitSleep = "GORACE=atexit_sleep_ms=0"

// helperEnv is the whole environment of a helper child running mode.
func helperEnv(mode, dir string, extra ...string) []string {
	env := []string{envMode + "=" + mode, envDir + "=" + dir, noExitSleep}
	return append(env, extra...)
}

// helperDir is a directory for one test's helpers. When the test ends,
// any helper that wrote its PID there and is still running is killed, and
// the test fails: nothing may be left behind.
func helperDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() { killLeftovers(t, dir) })
	return dir
}

func killLeftovers(t *testing.T, dir string) {
	pids, _ := filepath.Glob(filepath.Join(dir, "pid.*"))
	for _, name := range pids {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Ext(name), "."))
		if err != nil {
			continue
		}
		reapIfOurs(pid)
		// A reused PID would not carry this test's directory.
		environ, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if bytes.Contains(environ, []byte(envDir+"="+dir+"\x00")) {
			t.Errorf("helper %d was left running; killing it", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
			waitGone(t, pid, true)
		}
	}
}

// reapIfOurs reaps pid if it is a zombie child of the test process, which
// is a child subreaper once a test has called Run in it.
func reapIfOurs(pid int) {
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
}

// procStat returns the state letter and parent PID of pid, and false if
// there is no such process.
func procStat(pid int) (state byte, ppid int, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name, in parentheses, may hold spaces.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	ppid, _ = strconv.Atoi(fields[1])
	return fields[0][0], ppid, true
}

// waitGone waits until pid no longer exists. With reap it reaps pid if it
// ends up a zombie of the test process.
func waitGone(t *testing.T, pid int, reap bool) {
	t.Helper()
	waitFor(t, "process "+strconv.Itoa(pid)+" to be gone", func() bool {
		if reap {
			reapIfOurs(pid)
		}
		_, _, ok := procStat(pid)
		return !ok
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitFile waits for a helper's file and returns its content.
func waitFile(t *testing.T, dir, name string) string {
	t.Helper()
	var data []byte
	waitFor(t, name, func() bool {
		var err error
		data, err = os.ReadFile(filepath.Join(dir, name))
		return err == nil
	})
	return string(data)
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(data)
}

func touch(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// supervisor is the test binary running supervise.Run in a process of its
// own, so that tests can signal it from outside.
type supervisor struct {
	t   *testing.T
	dir string
	cmd *exec.Cmd
}

// startSupervisor runs a supervisor over a child in mode. configure may
// adjust the command before it starts.
func startSupervisor(t *testing.T, dir, mode string, timeout time.Duration,
	configure func(*exec.Cmd)) *supervisor {
	t.Helper()
	log, err := os.Create(filepath.Join(dir, "supervisor.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(executable(t))
	cmd.Env = helperEnv("supervisor", dir, envChild+"="+mode,
		envTimeout+"="+timeout.String())
	// A file, not a pipe: Wait would also wait for every holder of a pipe.
	cmd.Stdout, cmd.Stderr = log, log
	if configure != nil {
		configure(cmd)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &supervisor{t: t, dir: dir, cmd: cmd}
	t.Cleanup(s.kill)
	return s
}

func (s *supervisor) pid() int { return s.cmd.Process.Pid }

func (s *supervisor) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := syscall.Kill(s.pid(), sig); err != nil {
		s.t.Fatal(err)
	}
}

// wait returns the supervisor's exit code.
func (s *supervisor) wait() int {
	s.t.Helper()
	err := s.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		s.t.Fatal(err)
	}
	if s.t.Failed() || s.cmd.ProcessState.ExitCode() < 0 {
		s.t.Logf("supervisor log:\n%s", readFile(s.t, s.dir, "supervisor.log"))
	}
	return s.cmd.ProcessState.ExitCode()
}

// kill ends a supervisor that a failed test left running.
func (s *supervisor) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}
