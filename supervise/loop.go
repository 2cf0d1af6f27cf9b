package supervise

import (
	"context"
	"log/slog"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reapInterval bounds how long a zombie can wait if its SIGCHLD was lost:
// os/signal drops signals when the channel is full, and a caller's channel
// might not carry SIGCHLD at all.
const reapInterval = time.Second

// loop is the state owned by the one goroutine that runs Run. No other
// goroutine touches it.
type loop struct {
	cfg      Config
	log      *slog.Logger
	signals  <-chan os.Signal
	requests <-chan request

	pid      int  // the child; 0 once it has been reaped
	lastPid  int  // the child before, whose group may still own the terminal
	fg       bool // the child's group was given the terminal's foreground
	status   int  // the exit code of the last child reaped
	asked    bool // the child has been asked to stop
	stopping bool // envwrap is stopping: no more restarts

	restart *pendingRestart
	kill    *time.Timer // escalates to SIGKILL; nil when not armed

	env      []string       // the environment of the last start
	reload   syscall.Signal // the last signal sent by request, not forwarded
	respawn  *time.Timer    // restarts a failed child; nil when none is due
	failures int            // restarts after failures so far
	started  time.Time      // when the current child started

	finished bool // Run should return code and err
	code     int
	err      error
}

// pendingRestart is a restart waiting for the old child to be reaped.
type pendingRestart struct {
	env     []string
	replies []chan error
}

func newLoop(cfg Config, log *slog.Logger, sigs <-chan os.Signal,
	reqs <-chan request) *loop {
	return &loop{cfg: cfg, log: log, signals: sigs, requests: reqs}
}

// run serves events until the child is gone for good.
func (l *loop) run(ctx context.Context) (int, error) {
	tick := time.NewTicker(reapInterval)
	defer tick.Stop()
	cancelled := ctx.Done()
	for !l.finished {
		select {
		case sig, ok := <-l.signals:
			if !ok {
				l.signals = nil // closed by the caller: reaping falls back to the tick
				continue
			}
			l.onSignal(sig)
		case r := <-l.requests:
			l.onRequest(r)
		case <-cancelled:
			cancelled = nil
			l.log.Debug("stopping child", "reason", context.Cause(ctx).Error())
			l.stop()
		case <-l.killC():
			l.escalate()
		case <-timerC(l.respawn):
			l.respawn = nil
			l.respawnNow(l.env)
		case <-tick.C:
			l.reap()
		}
	}
	l.disarm()
	return l.code, l.err
}

// start runs a new child. It is only called when no child is alive.
func (l *loop) start(env []string) error {
	fg := ownsTerminal(syscall.Getpgrp(), l.lastPid)
	pid, err := spawn(l.cfg.Argv, env, fg)
	if err != nil {
		return err
	}
	l.pid, l.lastPid, l.fg, l.asked = pid, pid, fg, false
	l.env, l.reload, l.started = env, 0, time.Now()
	// Only argv[0]: the arguments and the environment may hold secrets.
	l.log.Info("child started", "pid", pid, "command", l.cfg.Argv[0],
		"foreground", fg)
	return nil
}

func (l *loop) onSignal(s os.Signal) {
	sig, ok := s.(syscall.Signal)
	if !ok {
		return
	}
	switch sig {
	case syscall.SIGCHLD:
		l.reap()
		return
	case syscall.SIGURG: // the Go runtime preempts goroutines with it
		return
	case syscall.SIGCONT:
		l.handBackTerminal()
	}
	if l.respawn != nil && l.terminates(sig) {
		l.cancelRespawn() // nothing runs to forward to: just stop waiting
		return
	}
	l.send(sig)
	if l.terminates(sig) {
		l.stopping = true
		l.asked = true
		l.abandonRestart()
		l.arm()
	}
}

// terminates reports whether sig from outside means "stop": it starts the
// countdown to SIGKILL.
func (l *loop) terminates(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, l.cfg.StopSignal:
		return true
	}
	return false
}

func (l *loop) onRequest(r request) {
	if !r.restart {
		r.reply <- l.send(r.sig)
		if r.sig != 0 {
			l.reload = r.sig
		}
		return
	}
	if l.stopping {
		r.reply <- errStopping
		return
	}
	if l.respawn != nil { // between a failure and its restart: start now
		l.respawn.Stop()
		l.respawn = nil
		r.reply <- l.respawnNow(r.env)
		return
	}
	if l.restart == nil {
		l.restart = &pendingRestart{}
	}
	l.restart.env = r.env
	l.restart.replies = append(l.restart.replies, r.reply)
	l.askToStop()
}

// stop ends the child for good, as when ctx is cancelled.
func (l *loop) stop() {
	l.stopping = true
	l.abandonRestart()
	l.askToStop()
}

// askToStop sends StopSignal, once per child, and starts the countdown.
func (l *loop) askToStop() {
	if !l.asked {
		l.asked = true
		l.send(l.cfg.StopSignal)
	}
	l.arm()
}

func (l *loop) abandonRestart() {
	if l.restart == nil {
		return
	}
	for _, reply := range l.restart.replies {
		reply <- errStopping
	}
	l.restart = nil
}

// send delivers sig to the child. The loop reaps, so a PID it has not
// reaped cannot have been reused.
func (l *loop) send(sig syscall.Signal) error {
	if l.pid == 0 {
		return ErrNotRunning
	}
	if err := syscall.Kill(l.pid, sig); err != nil {
		l.log.Warn("cannot signal child", "pid", l.pid, "signal", signalName(sig),
			"err", err)
		return err
	}
	l.log.Debug("signalled child", "pid", l.pid, "signal", signalName(sig))
	return nil
}

func signalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return sig.String()
}
