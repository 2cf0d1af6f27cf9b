package supervise

import (
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// becomeSubreaper makes orphans of the child's tree come to envwrap rather
// than to PID 1, so that the loop reaps them. PID 1 gets them anyway.
func becomeSubreaper(log *slog.Logger) {
	if os.Getpid() == 1 {
		return
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		log.Warn("cannot become a child subreaper; orphans go to PID 1",
			"err", err)
		return
	}
	log.Debug("became a child subreaper")
}
