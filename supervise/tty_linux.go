package supervise

import (
	"io"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// setForeground makes pgid the foreground process group of the terminal
// on stdin. envwrap may be in the background when it does so, where the
// kernel would answer with SIGTTOU; the signal is blocked, on this thread
// only and only for the call, which the kernel takes as consent.
func setForeground(pgid int) error {
	return withoutTTOU(func() error {
		return unix.IoctlSetPointerInt(0, unix.TIOCSPGRP, pgid)
	})
}

// TerminalWriter returns a writer for f, envwrap's stderr, that keeps
// working while the child holds the terminal. With `stty tostop` the
// kernel answers a write from the background with SIGTTOU; envwrap catches
// every signal, so the write would be retried for ever. Each write blocks
// SIGTTOU on its own thread, which the kernel takes as consent. When f is
// not a terminal it is returned as it is.
func TerminalWriter(f *os.File) io.Writer {
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return f
	}
	return terminalWriter{f}
}

type terminalWriter struct{ f *os.File }

func (w terminalWriter) Write(p []byte) (int, error) {
	var n int
	err := withoutTTOU(func() error {
		var err error
		n, err = w.f.Write(p)
		return err
	})
	return n, err
}

// withoutTTOU runs fn on one thread with SIGTTOU blocked.
func withoutTTOU(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var block, old unix.Sigset_t
	block.Val[0] = 1 << (uint(syscall.SIGTTOU) - 1)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &block, &old); err != nil {
		return err
	}
	defer func() { _ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil) }()
	return fn()
}
