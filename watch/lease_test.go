package watch

import (
	"testing"
	"time"

	"github.com/envwrap/envwrap/source"
)

// TestLeaseSchedule checks when a leased value is looked at again: its
// renewal at two thirds of its life, or its replacement at 80–90% of what
// is left when it cannot be renewed.
func TestLeaseSchedule(t *testing.T) {
	now := time.Now()
	renewable := &target{}
	renewable.setLease(source.Lease{ID: "l1", Duration: 90 * time.Second, Renewable: true}, now)
	if got := renewable.next.Sub(now); got != time.Minute || renewable.refetch {
		t.Errorf("a renewable 90s lease is next looked at after %v (refetch %v), want 1m renewal",
			got, renewable.refetch)
	}
	if !renewable.leased() || !renewable.expires.Equal(now.Add(90*time.Second)) {
		t.Errorf("lease not recorded: expires %v", renewable.expires)
	}

	for range 50 {
		fixed := &target{}
		fixed.setLease(source.Lease{ID: "l2", Duration: 100 * time.Second}, now)
		got := fixed.next.Sub(now)
		if !fixed.refetch || got < 80*time.Second || got > 90*time.Second {
			t.Fatalf("a non-renewable 100s lease is replaced after %v (refetch %v), "+
				"want 80–90s", got, fixed.refetch)
		}
	}

	gone := &target{expires: now.Add(-time.Second)}
	gone.replaceLate(now)
	if !gone.next.Equal(now) || !gone.refetch {
		t.Errorf("an expired lease is replaced at %v, want now", gone.next.Sub(now))
	}
}

func TestAfterFetchFollowsTheValue(t *testing.T) {
	now := time.Now()
	tg := &target{interval: time.Minute, lease: source.Lease{ID: "old", Duration: time.Hour}}
	tg.afterFetch(source.Secret{}, now)
	if tg.leased() {
		t.Error("a value without a lease left the old lease in place")
	}
	if d := tg.next.Sub(now); d < 54*time.Second || d >= 66*time.Second {
		t.Errorf("without a lease the next look is in %v, want the 1m interval", tg.next.Sub(now))
	}
	tg.afterFetch(source.Secret{Lease: source.Lease{ID: "new", Duration: 30 * time.Second,
		Renewable: true}}, now)
	if tg.lease.ID != "new" || tg.next.Sub(now) != 20*time.Second {
		t.Errorf("with a 30s renewable lease: lease %q, next in %v, want new and 20s",
			tg.lease.ID, tg.next.Sub(now))
	}
}

func TestRetryStaysInsideTheLease(t *testing.T) {
	now := time.Now()
	tg := &target{failures: 10, lease: source.Lease{ID: "l", Duration: time.Minute},
		expires: now.Add(20 * time.Second)}
	if got := tg.retry(now); got > 11*time.Second {
		t.Errorf("a failing leased secret retries after %v, past half its remaining 20s", got)
	}
}
