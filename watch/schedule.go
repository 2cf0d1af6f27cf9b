package watch

import (
	"math/rand/v2"
	"time"

	"github.com/envwrap/envwrap/source"
)

// target is one thing fetched: all manifest entries that share a
// Ref.Target share it.
type target struct {
	ref      source.Ref
	interval time.Duration // 0: never on a timer (files, which have events)
	next     time.Time     // zero: not scheduled
	failures int
	version  string // the last version seen, good or not applied

	lease   source.Lease // the value's lease; zero when it has none
	expires time.Time    // when the lease runs out
	refetch bool         // the next look fetches a fresh value, not a renewal
}

// jittered spreads d by ±10%, so that a fleet started together does not
// call the backends together.
func jittered(d time.Duration) time.Duration {
	spread := d / 5
	if spread <= 0 {
		return d
	}
	return d - spread/2 + rand.N(spread)
}

// schedule sets the next look after a good check.
func (t *target) schedule(now time.Time) {
	t.failures = 0
	if t.interval <= 0 {
		t.next = time.Time{}
		return
	}
	t.next = now.Add(jittered(t.interval))
}

// retry sets the next look after a failure: 1s doubled each time, never
// later than the normal interval, nor, for a lease, past its end.
func (t *target) retry(now time.Time) time.Duration {
	d := time.Second << min(t.failures, 20)
	if t.interval > 0 && d > t.interval {
		d = t.interval
	}
	if t.interval == 0 && d > maxEventRetry {
		d = maxEventRetry // files: events may never come on some filesystems
	}
	if t.leased() {
		if left := t.expires.Sub(now) / 2; left > time.Second && d > left {
			d = left
		}
	}
	t.failures++
	d = jittered(d)
	t.next = now.Add(d)
	return d
}

// maxEventRetry bounds the retry of a target that has no interval, such
// as a file that could not be read.
const maxEventRetry = 5 * time.Minute

// due lists the targets whose time has come.
func due(targets map[string]*target, now time.Time) []*target {
	var ready []*target
	for _, t := range targets {
		if !t.next.IsZero() && !t.next.After(now) {
			ready = append(ready, t)
		}
	}
	return ready
}

// earliest is the soonest time any target is due; zero when none is
// scheduled.
func earliest(targets map[string]*target) time.Time {
	var soonest time.Time
	for _, t := range targets {
		if !t.next.IsZero() && (soonest.IsZero() || t.next.Before(soonest)) {
			soonest = t.next
		}
	}
	return soonest
}
