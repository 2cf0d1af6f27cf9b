package supervise

import (
	"errors"
	"syscall"
	"time"
)

// reap collects every child that has ended: the main child, recognised by
// its PID, and any orphan that the kernel handed to envwrap as PID 1 or as
// a child subreaper. It then decides what the main child's end means. It
// also learns when the main child was stopped, for job control.
func (l *loop) reap() {
	gone := false
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG|syscall.WUNTRACED, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil && !errors.Is(err, syscall.ECHILD) {
			l.log.Warn("cannot reap", "err", err)
		}
		if err != nil || pid <= 0 { // ECHILD: no children; 0: none has ended
			break
		}
		switch {
		case pid != l.pid:
			if !ws.Stopped() {
				l.log.Debug("reaped orphan", "pid", pid, "code", exitCode(ws))
			}
		case ws.Stopped():
			l.stopped(ws.StopSignal())
		default:
			l.exited(ws)
			gone = true
		}
	}
	if gone {
		l.afterExit()
	}
}

// exited records the end of the main child.
func (l *loop) exited(ws syscall.WaitStatus) {
	l.status = exitCode(ws)
	sig := ""
	if ws.Signaled() {
		sig = signalName(ws.Signal())
	}
	l.log.Info("child exited", "pid", l.pid, "code", l.status, "signal", sig)
	if ws.Signaled() && ws.Signal() == l.reload && !l.asked {
		l.log.Warn("the child died of the signal envwrap sent it on a change; "+
			"it does not seem to handle it", "pid", l.pid, "signal", sig)
	}
	l.reclaimTerminal(l.pid)
	l.pid = 0
	l.disarm()
}

// afterExit starts the child of a pending restart, or ends Run.
func (l *loop) afterExit() {
	r := l.restart
	if r == nil {
		respawn := l.scheduleRespawn()
		l.exitHook(respawn)
		if !respawn {
			l.stopGroup()
			l.finish(l.status, nil)
		}
		return
	}
	l.exitHook(false)
	l.restart = nil
	err := l.start(r.env)
	for _, reply := range r.replies {
		reply <- err
	}
	if err != nil {
		l.finish(startCode(err), err)
	}
}

func (l *loop) exitHook(restarting bool) {
	if l.cfg.OnExit != nil {
		l.cfg.OnExit(l.status, restarting)
	}
}

// stopGroup passes a stop on to what the child left behind in its process
// group (sh -c 'worker & wait', say), so that stopping envwrap stops them
// too rather than leaving them to init.
func (l *loop) stopGroup() {
	if !l.stopping || l.lastPid == 0 {
		return
	}
	if syscall.Kill(-l.lastPid, l.cfg.StopSignal) != nil {
		return // nothing is left in the group
	}
	l.log.Debug("signalled what the child left in its process group",
		"pgid", l.lastPid, "signal", signalName(l.cfg.StopSignal))
	// Reap them before envwrap exits, for a short while: a process that
	// ignores the signal is left to init, as a shell would leave it.
	deadline := time.Now().Add(min(l.cfg.StopTimeout, groupGrace))
	for time.Now().Before(deadline) {
		l.reapOrphans()
		if syscall.Kill(-l.lastPid, 0) != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// groupGrace bounds how long envwrap waits for the rest of a stopped
// child's process group.
const groupGrace = 2 * time.Second

// reapOrphans collects ended processes other than the main child, which
// is gone by the time this runs.
func (l *loop) reapOrphans() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		l.log.Debug("reaped orphan", "pid", pid, "code", exitCode(ws))
	}
}

func (l *loop) finish(code int, err error) {
	l.finished, l.code, l.err = true, code, err
}

// exitCode is the status a shell would report: the child's own code, or
// 128+N when signal N killed it.
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// arm starts the countdown from a stop request to SIGKILL, unless one is
// already running: a second request does not give the child more time.
func (l *loop) arm() {
	if l.kill == nil {
		l.kill = time.NewTimer(l.cfg.StopTimeout)
	}
}

func (l *loop) disarm() {
	if l.kill != nil {
		l.kill.Stop()
		l.kill = nil
	}
}

// killC is the countdown's channel; nil, which never fires, when unarmed.
func (l *loop) killC() <-chan time.Time {
	if l.kill == nil {
		return nil
	}
	return l.kill.C
}

// escalate kills the child's whole process group, so that helpers it
// started go too. The child itself is killed by PID as well in case it
// left its group. Neither can be a reused ID: the child is not reaped yet.
func (l *loop) escalate() {
	l.kill = nil
	if l.pid == 0 {
		return
	}
	l.log.Warn("child did not stop in time; killing its process group",
		"pid", l.pid, "stop_timeout", l.cfg.StopTimeout.String())
	if err := syscall.Kill(-l.pid, syscall.SIGKILL); err != nil {
		l.log.Debug("cannot kill process group", "pgid", l.pid, "err", err)
	}
	if err := syscall.Kill(l.pid, syscall.SIGKILL); err != nil {
		l.log.Debug("cannot kill child", "pid", l.pid, "err", err)
	}
}
