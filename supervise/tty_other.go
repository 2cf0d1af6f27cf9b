//go:build !linux

package supervise

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// setForeground makes pgid the foreground process group of the terminal
// on stdin. Off Linux envwrap does not block SIGTTOU around the call, so
// from the background it can fail; that only matters to job control.
func setForeground(pgid int) error {
	return unix.IoctlSetPointerInt(0, unix.TIOCSPGRP, pgid)
}

// TerminalWriter returns f: off Linux envwrap's writes under `stty tostop`
// are not protected.
func TerminalWriter(f *os.File) io.Writer { return f }
