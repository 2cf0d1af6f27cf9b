package supervise

import (
	"testing"
	"time"
)

// backoff doubles from Backoff and stops at MaxBackoff, whatever the
// number of failures and however large Backoff is.
func TestBackoff(t *testing.T) {
	const ms = time.Millisecond
	cases := []struct {
		p    Policy
		n    int
		want time.Duration
	}{
		{Policy{}, 0, time.Second},
		{Policy{}, 5, 32 * time.Second},
		{Policy{}, 6, time.Minute},
		{Policy{}, 1 << 40, time.Minute},
		{Policy{Backoff: 50 * ms, MaxBackoff: time.Second}, 0, 50 * ms},
		{Policy{Backoff: 50 * ms, MaxBackoff: time.Second}, 3, 400 * ms},
		{Policy{Backoff: 50 * ms, MaxBackoff: time.Second}, 4, 800 * ms},
		{Policy{Backoff: 50 * ms, MaxBackoff: time.Second}, 5, time.Second},
		{Policy{Backoff: 2 * time.Second, MaxBackoff: time.Second}, 0, time.Second},
		// Shifting this Backoff left 30 times wraps around to about 1s.
		{Policy{Backoff: 1<<34 + 1, MaxBackoff: time.Hour}, 30, time.Hour},
		{Policy{Backoff: 1<<34 + 1, MaxBackoff: 1<<63 - 1}, 1000, 1<<63 - 1},
	}
	for _, c := range cases {
		if got := backoff(c.p, c.n); got != c.want {
			t.Errorf("backoff(%+v, %d) = %v, want %v", c.p, c.n, got, c.want)
		}
	}
}
