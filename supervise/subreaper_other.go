//go:build !linux

package supervise

import (
	"log/slog"
	"os"
)

// becomeSubreaper does nothing: only Linux has child subreapers. Orphans of
// the child's tree go to PID 1 unless envwrap is PID 1.
func becomeSubreaper(log *slog.Logger) {
	if os.Getpid() != 1 {
		log.Debug("not a child subreaper on this system; orphans go to PID 1")
	}
}
