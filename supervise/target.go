package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Target is an application that envwrap agent serves but did not start:
// found by pid file or by name, told of changes by a signal or a command.
// It is what rotation acts on in agent mode, where there is no child and
// so no reaper, and a command may be waited for with os/exec.
type Target struct {
	PIDFile     string   // a file holding the application's PID
	ProcessName string   // or its name in /proc/PID/comm
	Command     []string // run after every change, if set
	Logger      *slog.Logger
}

// commandTimeout bounds a change command.
const commandTimeout = time.Minute

// Signal sends sig to the application, then runs the command.
func (t *Target) Signal(sig syscall.Signal) error {
	err := t.signal(sig)
	return errors.Join(err, t.run())
}

// Restart cannot start an application it does not own. It sends SIGTERM,
// so that whoever runs the application (the kubelet, the ECS agent)
// restarts it, and then runs the command. The environment is not used.
func (t *Target) Restart([]string) error {
	t.log().Warn("agent mode cannot restart the application itself; " +
		"sending it SIGTERM for its own supervisor to restart it")
	return t.Signal(syscall.SIGTERM)
}

func (t *Target) signal(sig syscall.Signal) error {
	if t.PIDFile == "" && t.ProcessName == "" {
		return nil
	}
	pids, err := t.find()
	if err != nil {
		return err
	}
	var errs []error
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil {
			errs = append(errs, fmt.Errorf("supervise: signalling %d: %w", pid, err))
			continue
		}
		t.log().Info("signalled the application", "pid", pid, "signal", signalName(sig))
	}
	return errors.Join(errs...)
}

// find returns the PIDs to signal: the one in the pid file, or every
// process with the name other than envwrap itself.
func (t *Target) find() ([]int, error) {
	if t.PIDFile != "" {
		b, err := os.ReadFile(t.PIDFile)
		if err != nil {
			return nil, fmt.Errorf("supervise: reading the pid file: %w", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		switch {
		case err != nil || pid <= 0:
			return nil, fmt.Errorf("supervise: %s holds no PID", t.PIDFile)
		case pid == os.Getpid():
			return nil, fmt.Errorf("supervise: %s names envwrap itself", t.PIDFile)
		}
		return []int{pid}, nil
	}
	return byName(t.ProcessName)
}

// byName scans /proc for processes whose comm is name.
func byName(name string) ([]int, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*/comm")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, comm := range dirs {
		b, err := os.ReadFile(comm)
		if err != nil || string(bytes.TrimSpace(b)) != name {
			continue // gone since the glob, or another name
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(comm)))
		if pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("supervise: no process named %q", name)
	}
	return pids, nil
}

// run runs the change command, if any, with envwrap's own environment.
func (t *Target) run() error {
	if len(t.Command) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.Command[0], t.Command[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("supervise: change command %s: %w", t.Command[0], err)
	}
	t.log().Info("ran the change command", "command", t.Command[0])
	return nil
}

func (t *Target) log() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}
