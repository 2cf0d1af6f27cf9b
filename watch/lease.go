package watch

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/envwrap/envwrap/source"
)

// A leased secret (Vault's dynamic credentials, say) is not refreshed on
// an interval. Its lease is renewed at two thirds of its life; renewal
// extends the lease and keeps the value. A renewal that fails for a reason
// that may pass (Vault sealed or out of reach) is tried again, with
// backoff, for the first half of what was left of the lease. When the
// lease cannot be renewed, or the backend grants less than asked because
// the lease nears its maximum life, a fresh secret is fetched late in the
// remaining life, at 80 to 90% of it, and that new value is a change like
// any other.

// leased reports whether the target holds a lease that rotation manages.
func (t *target) leased() bool { return t.lease.Duration > 0 }

// setLease records a lease granted now and schedules its renewal, or its
// replacement if it cannot be renewed.
func (t *target) setLease(l source.Lease, now time.Time) {
	t.lease, t.expires, t.failures = l, now.Add(l.Duration), 0
	if !l.Renewable {
		t.replaceLate(now)
		return
	}
	t.refetch = false
	t.next = now.Add(l.Duration * 2 / 3)
}

// replaceLate schedules a fresh fetch at 80–90% of the lease's remaining
// life, with jitter so that a fleet does not ask at once.
func (t *target) replaceLate(now time.Time) {
	t.refetch = true
	left := t.expires.Sub(now)
	if left <= 0 {
		t.next = now
		return
	}
	t.next = now.Add(left*8/10 + rand.N(left/10+1))
}

// retryRenewal reports whether a renewal that failed with err is worth
// trying again: the error may pass, and more than a sixth of the lease's
// life (half of what is left at the renewal) and more than two seconds
// remain, so that a replacement still has time if the retries fail. The
// backoff of retry stays within half the remaining life.
func (t *target) retryRenewal(err error, now time.Time) bool {
	return !source.IsPermanent(err) &&
		t.expires.Sub(now) > max(t.lease.Duration/6, 2*time.Second)
}

// renew extends t's lease. It reports to the log and the metrics hook.
func (w *Watcher) renew(ctx context.Context, t *target) {
	r, ok := w.cfg.Sources[t.ref.Scheme].(source.Renewer)
	if !ok || !t.lease.Renewable {
		t.replaceLate(time.Now())
		return
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	granted, err := r.Renew(ctx, t.lease, t.lease.Duration)
	w.checked(t.ref, err)
	now := time.Now()
	switch {
	case err != nil && t.retryRenewal(err, now):
		// Vault sealed or out of reach for a moment: the lease is still
		// good and may well be renewed once Vault answers. Replacing the
		// value would restart the child for a passing fault.
		wait := t.retry(now)
		w.log.Warn("lease renewal failed; retrying", "ref", t.ref.Raw,
			"lease_id", t.lease.ID, "err", err,
			"next_try", wait.Round(time.Millisecond).String())
	case err != nil:
		t.replaceLate(now)
		w.log.Warn("lease renewal failed; a fresh secret will replace it",
			"ref", t.ref.Raw, "lease_id", t.lease.ID, "err", err,
			"replace_in", t.next.Sub(now).Round(time.Millisecond).String())
	case granted < t.lease.Duration:
		t.expires = now.Add(granted)
		t.replaceLate(now)
		w.log.Info("lease renewed up to its maximum life; a fresh secret will replace it",
			"ref", t.ref.Raw, "lease_id", t.lease.ID, "ttl", granted.String(),
			"replace_in", t.next.Sub(now).Round(time.Millisecond).String())
	default:
		t.failures = 0
		t.expires = now.Add(granted)
		t.next = now.Add(granted * 2 / 3)
		w.log.Info("lease renewed", "ref", t.ref.Raw, "lease_id", t.lease.ID,
			"ttl", granted.String())
	}
}

// afterFetch schedules a target's next look after a good fetch: by its
// lease when the value has one, else by its interval.
func (t *target) afterFetch(sec source.Secret, now time.Time) {
	if sec.Lease.Duration > 0 {
		t.setLease(sec.Lease, now)
		return
	}
	t.lease = source.Lease{}
	t.schedule(now)
}
