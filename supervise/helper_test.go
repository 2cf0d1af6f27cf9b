//go:build linux

package supervise_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/envwrap/envwrap/supervise"
	"golang.org/x/sys/unix"
)

// The test binary doubles as every process the tests need, as os/exec's
// own tests do: when envMode is set, TestMain runs a helper instead of the
// tests. Helpers talk to the test through files in envDir.
const (
	envMode    = "ENVWRAP_SUPERVISE_HELPER"
	envDir     = "ENVWRAP_SUPERVISE_DIR"
	envCode    = "ENVWRAP_SUPERVISE_CODE"   // exit: the code
	envSignal  = "ENVWRAP_SUPERVISE_SIGNAL" // die: the signal; lifetime: the stop signal
	envIgnore  = "ENVWRAP_SUPERVISE_IGNORE" // lifetime: do not stop on the stop signal
	envChild   = "ENVWRAP_SUPERVISE_CHILD"  // supervisor: the child's mode
	envTimeout = "ENVWRAP_SUPERVISE_STOP_TIMEOUT"
	envRuns    = "ENVWRAP_SUPERVISE_RUNS" // repeat: how many runs
)

// helperLife bounds every helper that waits, so that none outlives a
// failed test by much.
const helperLife = 20 * time.Second

var helpers = map[string]func() int{
	"exit":       helperExit,
	"die":        helperDie,
	"wait":       helperWait,
	"record":     helperRecord,
	"dump":       helperDump,
	"ignore":     helperIgnore,
	"orphan":     helperOrphan,
	"spawner":    helperSpawner,
	"linger":     helperLinger,
	"lifetime":   helperLifetime,
	"supervisor": helperSupervisor,
	"repeat":     helperRepeat,
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(envMode); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

func runHelper(mode string) int {
	h, ok := helpers[mode]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		return 2
	}
	if dir := os.Getenv(envDir); dir != "" {
		note(fmt.Sprintf("pid.%d", os.Getpid()), mode)
	}
	return h()
}

// note writes a file in envDir. Helpers that cannot report have failed the
// test anyway, so errors end the helper loudly.
func note(name, content string) {
	path := filepath.Join(os.Getenv(envDir), name)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		panic(err)
	}
	if err := os.Rename(tmp, path); err != nil { // readers see all or nothing
		panic(err)
	}
}

// appendTo appends a line to a file in envDir.
func appendTo(name, line string) {
	path := filepath.Join(os.Getenv(envDir), name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		panic(err)
	}
}

func exists(name string) bool {
	_, err := os.Stat(filepath.Join(os.Getenv(envDir), name))
	return err == nil
}

// awaitFile waits for the test to create name; false after helperLife.
func awaitFile(name string) bool {
	deadline := time.Now().Add(helperLife)
	for !exists(name) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

func envInt(name string) int {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil {
		panic(fmt.Sprintf("%s: %v", name, err))
	}
	return n
}

func helperExit() int { return envInt(envCode) }

// helperDie kills itself with a signal, with the kernel's default action:
// the Go runtime would turn a SIGSEGV into a crash with exit status 2.
func helperDie() int {
	sig := syscall.Signal(envInt(envSignal))
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{}) // no core file
	// The kernel's struct sigaction, all zero: SIG_DFL, no flags, no mask.
	var act [4]uint64
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	_ = syscall.Kill(os.Getpid(), sig)
	time.Sleep(helperLife)
	return 3
}

// helperWait waits with the runtime's default signal handling.
func helperWait() int {
	time.Sleep(helperLife)
	return 3
}

// helperRecord writes the name of every signal it gets to "signals". It
// exits 0 a little after SIGTERM or SIGINT, so that a duplicate would be
// seen.
func helperRecord() int {
	ch := make(chan os.Signal, 64)
	signal.Notify(ch)
	note("ready", strconv.Itoa(os.Getpid()))
	life := time.After(helperLife)
	var linger <-chan time.Time
	for {
		select {
		case s := <-ch:
			sig := s.(syscall.Signal)
			appendTo("signals", unix.SignalName(sig))
			if linger == nil && (sig == syscall.SIGTERM || sig == syscall.SIGINT) {
				linger = time.After(150 * time.Millisecond)
			}
		case <-linger:
			return 0
		case <-life:
			return 3
		}
	}
}

// helperDump writes its arguments and environment, NUL-terminated.
func helperDump() int {
	note("args", strings.Join(os.Args[1:], "\x00"))
	note("env", strings.Join(os.Environ(), "\x00"))
	return 0
}

// helperIgnore ignores SIGTERM, starts a grandchild in its process group
// and waits; only SIGKILL ends them early.
func helperIgnore() int {
	signal.Ignore(syscall.SIGTERM)
	gc := helperCommand("wait")
	if err := gc.Start(); err != nil {
		panic(err)
	}
	note("pids", fmt.Sprintf("%d %d", os.Getpid(), gc.Process.Pid))
	time.Sleep(helperLife)
	return 3
}

// helperOrphan leaves an orphan behind through a spawner that exits at
// once, then waits for "finish".
func helperOrphan() int {
	if err := helperCommand("spawner").Run(); err != nil {
		panic(err)
	}
	if !awaitFile("finish") {
		return 3
	}
	return 0
}

func helperSpawner() int {
	gc := helperCommand("linger")
	if err := gc.Start(); err != nil {
		panic(err)
	}
	note("grandchild", strconv.Itoa(gc.Process.Pid))
	return 0 // without waiting: the grandchild is orphaned
}

// helperLinger exits once "release" exists.
func helperLinger() int {
	if !awaitFile("release") {
		return 3
	}
	return 0
}

// helperCommand runs this binary again as mode, with the same environment.
func helperCommand(mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = withEnv(os.Environ(), envMode+"="+mode)
	return cmd
}

// helperLifetime is a child for restart tests. It appends "start PID NS"
// and, on its stop signal, "exit PID NS" to "events"; at start it appends
// "overlap PID" for any earlier child that has not been reaped yet. It
// writes its environment to env.PID and the signals it gets to signals.PID.
func helperLifetime() int {
	ch := make(chan os.Signal, 64)
	signal.Notify(ch)
	pid := os.Getpid()
	note(fmt.Sprintf("env.%d", pid), strings.Join(os.Environ(), "\x00"))
	reportOverlap(pid)
	appendTo("events", fmt.Sprintf("start %d %d", pid, time.Now().UnixNano()))

	stop := syscall.Signal(envInt(envSignal))
	life := time.After(helperLife)
	for {
		select {
		case s := <-ch:
			sig := s.(syscall.Signal)
			appendTo(fmt.Sprintf("signals.%d", pid), unix.SignalName(sig))
			if sig == stop && os.Getenv(envIgnore) == "" {
				appendTo("events", fmt.Sprintf("exit %d %d", pid, time.Now().UnixNano()))
				return 0
			}
		case <-life:
			return 3
		}
	}
}

// reportOverlap notes every child started before this one that still
// exists, even as a zombie: kill with signal 0 succeeds until it is reaped.
func reportOverlap(self int) {
	data, _ := os.ReadFile(filepath.Join(os.Getenv(envDir), "events"))
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "start" {
			pid, _ := strconv.Atoi(f[1])
			if pid != self && syscall.Kill(pid, 0) == nil {
				appendTo("events", "overlap "+f[1])
			}
		}
	}
}

// helperSupervisor runs supervise.Run over this binary as envChild, with
// the signals that this process gets, and exits with the code it returns.
func helperSupervisor() int {
	timeout, err := time.ParseDuration(os.Getenv(envTimeout))
	if err != nil {
		timeout = 5 * time.Second
	}
	log := slog.New(slog.NewTextHandler(os.Stderr,
		&slog.HandlerOptions{Level: slog.LevelDebug}))
	s := supervise.New(supervise.Config{
		Argv:        []string{os.Args[0]},
		Env:         supervisedEnv(),
		StopTimeout: timeout,
		Logger:      log,
	})
	code, err := s.Run(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

// helperRepeat runs supervise.Run over envChild envRuns times, one after
// the other, and writes how often each exit code came back to "codes", as
// "code count" lines.
func helperRepeat() int {
	counts := map[int]int{}
	for range envInt(envRuns) {
		s := supervise.New(supervise.Config{Argv: []string{os.Args[0]}, Env: supervisedEnv()})
		code, err := s.Run(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		counts[code]++
	}
	var out strings.Builder
	for _, code := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&out, "%d %d\n", code, counts[code])
	}
	note("codes", out.String())
	return 0
}

// supervisedEnv is this process's environment for the child: the child's
// mode, and no asynchronous preemption, whose SIGURGs the child would
// otherwise record as if they had been forwarded.
func supervisedEnv() []string {
	env := withEnv(os.Environ(), envMode+"="+os.Getenv(envChild))
	return withEnv(env, "GODEBUG=asyncpreemptoff=1")
}

// withEnv sets kv in env, replacing the variable if env has it: a
// duplicate would be ignored, as the first one wins.
func withEnv(env []string, kv string) []string {
	name, _, _ := strings.Cut(kv, "=")
	env = slices.DeleteFunc(slices.Clone(env), func(e string) bool {
		return strings.HasPrefix(e, name+"=")
	})
	return append(env, kv)
}
