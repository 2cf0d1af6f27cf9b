package supervise

import (
	"os"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// ownsTerminal reports whether stdin is envwrap's controlling terminal and
// its foreground process group is one of pgids. The child should then take
// the foreground: the terminal's Ctrl-C, Ctrl-\ and Ctrl-Z go to the child
// alone, once each, and envwrap, in the background, gets none to forward.
// When envwrap itself runs in the background, or stdin is no terminal, the
// child stays in the background too.
func ownsTerminal(pgids ...int) bool {
	fg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	if err != nil {
		return false // not a terminal, or not ours
	}
	return slices.Contains(pgids, fg)
}

// stopped follows a child that the terminal stopped (Ctrl-Z, or a read or
// write from the background): envwrap stops too, so that the shell, which
// waits for envwrap, sees its job stopped and offers fg and bg. As PID 1
// it could not stop itself, and a child stopped any other way is left to
// whoever stopped it.
func (l *loop) stopped(sig syscall.Signal) {
	switch sig {
	case syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
	default:
		return
	}
	// A child in the background stopped by a read or write on the terminal
	// (envwrap -- cat &) must show as a stopped job too, or the shell's fg
	// would not send the SIGCONT that gives it the terminal.
	if os.Getpid() == 1 {
		return
	}
	l.log.Debug("child stopped by the terminal; stopping too", "pid", l.pid,
		"signal", signalName(sig))
	if err := syscall.Kill(os.Getpid(), syscall.SIGSTOP); err != nil {
		l.log.Warn("cannot stop", "err", err)
	}
}

// handBackTerminal runs on SIGCONT, before it is forwarded. A shell's fg
// gives the terminal to envwrap's process group, the job it knows; the
// child's group must have it before it goes on. That holds too for a child
// started in the background (envwrap -- app &) and brought to the front.
func (l *loop) handBackTerminal() {
	if l.pid == 0 || !ownsTerminal(syscall.Getpgrp()) {
		return
	}
	if err := setForeground(l.pid); err != nil {
		l.log.Warn("cannot give the terminal back to the child", "pid", l.pid,
			"err", err)
		return
	}
	l.fg = true
}

// reclaimTerminal takes the terminal's foreground back from a child that
// had it and is gone. Without this a script that runs envwrap and then
// reads from the terminal, or expects Ctrl-C, would find itself in the
// background of its own terminal.
func (l *loop) reclaimTerminal(childPgid int) {
	if !l.fg || !ownsTerminal(childPgid) {
		return
	}
	if err := setForeground(syscall.Getpgrp()); err != nil {
		l.log.Warn("cannot take the terminal back", "err", err)
	}
}
