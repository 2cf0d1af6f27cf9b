package supervise

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Exit codes for a command that cannot run, as shells use them.
const (
	CodeCannotExecute = 126
	CodeNotFound      = 127
)

// StartError is returned when the command cannot run. Code is 126 when it
// was found but cannot be executed (EACCES, ENOEXEC, EISDIR, ...) and 127
// when it was not found.
type StartError struct {
	Path string // argv[0] as given
	Code int
	Err  error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("supervise: cannot run %q: %v", e.Path, e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// spawn starts argv with env in a process group of its own, with envwrap's
// stdin, stdout and stderr, and returns its PID. fg makes the new group the
// terminal's foreground group, so that keys like Ctrl-C signal the child
// and not envwrap.
//
// It uses ForkExec rather than exec.Cmd because nothing may call Wait: the
// loop reaps.
func spawn(argv, env []string, fg bool) (int, error) {
	if len(argv) == 0 {
		return 0, &StartError{Code: CodeNotFound, Err: errors.New("empty command")}
	}
	path, err := resolve(argv[0])
	if err != nil {
		return 0, err
	}
	attr := &syscall.ProcAttr{
		Env:   env,
		Files: inheritedFiles(),
		Sys:   &syscall.SysProcAttr{Setpgid: true, Foreground: fg, Ctty: 0},
	}
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return 0, newStartError(argv[0], err)
	}
	return pid, nil
}

// resolve finds the file to execute for name, the way a shell would.
func resolve(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil // execve itself says whether it can run
	}
	path, err := exec.LookPath(name)
	if err != nil {
		// Drop exec.Error's own copy of the name; StartError names it.
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err
		}
		return "", newStartError(name, err)
	}
	return path, nil
}

func newStartError(name string, err error) *StartError {
	code := CodeCannotExecute
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, exec.ErrNotFound) {
		code = CodeNotFound
	}
	return &StartError{Path: name, Code: code, Err: err}
}

// inheritedFiles passes envwrap's descriptors 0, 1 and 2 to the child as
// they are. One that envwrap does not have open stays closed in the child
// (ForkExec closes a descriptor given as -1) instead of failing the start.
func inheritedFiles() []uintptr {
	files := make([]uintptr, 3)
	for fd := range files {
		files[fd] = uintptr(fd)
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			files[fd] = ^uintptr(0)
		}
	}
	return files
}
