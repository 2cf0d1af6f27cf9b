package supervise

import "time"

// scheduleRespawn arms the restart of a child that failed, when the policy
// allows one. It reports whether it did.
func (l *loop) scheduleRespawn() bool {
	p := l.cfg.Policy
	switch {
	case !p.OnFailure || l.stopping || l.asked || l.status == 0:
		return false
	case p.MaxRestarts > 0 && l.failures >= p.MaxRestarts:
		l.log.Warn("child failed and its restarts are used up; stopping",
			"code", l.status, "max_restarts", p.MaxRestarts)
		return false
	}
	if time.Since(l.started) >= healthyRun {
		l.failures = 0 // it ran well for a while: this failure is a new story
	}
	wait := backoff(p, l.failures)
	l.failures++
	l.log.Warn("child failed; restarting it", "code", l.status,
		"in", wait.String(), "restart", l.failures)
	l.respawn = time.NewTimer(wait)
	return true
}

// healthyRun is how long a child must have run for its failure to start
// the backoff and the restart count afresh.
const healthyRun = 10 * time.Minute

// respawnNow starts the child again after a failure.
func (l *loop) respawnNow(env []string) error {
	err := l.start(env)
	if err != nil {
		l.finish(startCode(err), err)
	}
	return err
}

// cancelRespawn gives up a restart that is waiting for its backoff, as
// when envwrap is asked to stop; Run ends with the failed child's status.
func (l *loop) cancelRespawn() {
	l.respawn.Stop()
	l.respawn = nil
	l.stopping = true
	l.finish(l.status, nil)
}

// backoff is the wait before restart number n+1: Backoff doubled n times,
// capped at MaxBackoff. It doubles step by step rather than shifting
// once: a shift can carry a large Backoff past the top bit and wrap it
// round to a short wait.
func backoff(p Policy, n int) time.Duration {
	d, ceiling := p.Backoff, p.MaxBackoff
	if d <= 0 {
		d = time.Second
	}
	if ceiling <= 0 {
		ceiling = time.Minute
	}
	for ; n > 0 && d < ceiling; n-- {
		if d > ceiling/2 {
			return ceiling
		}
		d *= 2
	}
	return min(d, ceiling)
}

// timerC is t's channel, or nil (which never fires) for no timer.
func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}
