package watch

import (
	"testing"
	"time"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
)

func TestSameSecret(t *testing.T) {
	v := func(s string) secret.Value { return secret.FromString(s) }
	tree := func(kv ...string) map[string]secret.Value {
		m := make(map[string]secret.Value)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = v(kv[i+1])
		}
		return m
	}
	base := source.Secret{Version: "v1", Value: v("s3cret")}
	cases := []struct {
		name string
		b    source.Secret
		same bool
	}{
		{"new version, same bytes", source.Secret{Version: "v2", Value: v("s3cret")}, true},
		{"same version, new bytes", source.Secret{Version: "v1", Value: v("s3cret!")}, false},
		{"a prefix only", source.Secret{Version: "v2", Value: v("s3cre")}, false},
		{"same bytes, now binary",
			source.Secret{Version: "v2", Value: v("s3cret"), Binary: true}, false},
		{"same bytes, now a tree",
			source.Secret{Version: "v2", Value: v("s3cret"), Tree: tree()}, false},
	}
	for _, c := range cases {
		if got := sameSecret(base, c.b); got != c.same {
			t.Errorf("%s: sameSecret = %v, want %v", c.name, got, c.same)
		}
	}

	path := source.Secret{Version: "d1", Tree: tree("a", "1", "b/c", "2")}
	trees := []struct {
		name string
		tree map[string]secret.Value
		same bool
	}{
		{"same parameters", tree("b/c", "2", "a", "1"), true},
		{"one value changed", tree("a", "1", "b/c", "3"), false},
		{"one parameter renamed", tree("a", "1", "b/d", "2"), false},
		{"one parameter added", tree("a", "1", "b/c", "2", "z", ""), false},
		{"one parameter gone", tree("a", "1"), false},
	}
	for _, c := range trees {
		b := source.Secret{Version: "d2", Tree: c.tree}
		if got := sameSecret(path, b); got != c.same {
			t.Errorf("path, %s: sameSecret = %v, want %v", c.name, got, c.same)
		}
	}
	empty := source.Secret{Tree: tree()}
	if sameSecret(empty, source.Secret{}) || sameSecret(source.Secret{}, empty) {
		t.Error("an empty path and a plain empty value count as the same")
	}
}

// jittered spreads by ±10%: every wait is in [0.9d, 1.1d), and the whole
// range is used, so that a fleet does not stay in step.
func TestJitterBounds(t *testing.T) {
	for _, d := range []time.Duration{300 * time.Millisecond, time.Second, 5 * time.Minute} {
		lo, hi := d-d/10, d+d/10
		minSeen, maxSeen := hi, lo
		for range 10000 {
			got := jittered(d)
			if got < lo || got >= hi {
				t.Fatalf("jittered(%v) = %v, outside [%v, %v)", d, got, lo, hi)
			}
			minSeen, maxSeen = min(minSeen, got), max(maxSeen, got)
		}
		// With 10000 draws, missing the outer 2% of either side would take
		// a probability below 1e-80.
		if minSeen > d-d/10+d/50 || maxSeen < d+d/10-d/50 {
			t.Errorf("jittered(%v) stayed within [%v, %v]: no real spread",
				d, minSeen, maxSeen)
		}
	}
	for _, d := range []time.Duration{0, 1, 4} { // too short to spread
		if got := jittered(d); got != d {
			t.Errorf("jittered(%v) = %v", d, got)
		}
	}
}

// retry doubles from 1s and never waits longer than the normal interval,
// each wait jittered by ±10%; a good check starts it from 1s again.
func TestRetryBackoff(t *testing.T) {
	now := time.Now()
	within := func(got, want time.Duration) bool {
		return got >= want-want/10 && got < want+want/10
	}
	tg := &target{interval: 5 * time.Minute}
	for i, want := range []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300} {
		want *= time.Second
		got := tg.retry(now)
		if !within(got, want) {
			t.Errorf("retry %d waits %v, want %v ±10%%", i+1, got, want)
		}
		if !tg.next.Equal(now.Add(got)) || tg.failures != i+1 {
			t.Errorf("retry %d: next in %v, failures %d", i+1, tg.next.Sub(now), tg.failures)
		}
	}
	tg.schedule(now)
	if tg.failures != 0 || !within(tg.next.Sub(now), 5*time.Minute) {
		t.Errorf("after a good check: failures %d, next in %v", tg.failures, tg.next.Sub(now))
	}
	if got := tg.retry(now); !within(got, time.Second) {
		t.Errorf("the first retry after a good check waits %v, want 1s", got)
	}

	// A short interval caps every retry: a refresh every 300ms retries
	// every 300ms.
	short := &target{interval: 300 * time.Millisecond}
	for i := range 5 {
		if got := short.retry(now); !within(got, 300*time.Millisecond) {
			t.Errorf("retry %d with a 300ms refresh waits %v", i+1, got)
		}
	}

	// Files have no interval; their retries double up to five minutes,
	// and a very long run of failures does not overflow.
	f := &target{failures: 62}
	if got := f.retry(now); !within(got, maxEventRetry) {
		t.Errorf("retry after 62 failures waits %v, want 5m", got)
	}
}

// applyAt waits Debounce after the last change, but never more than
// 5×Debounce after the first.
func TestApplyAt(t *testing.T) {
	const d = 100 * time.Millisecond
	w := New(Config{Manifest: newManifest(t), Initial: &State{}, Debounce: d})
	t0 := time.Now()
	cases := []struct{ last, want time.Duration }{
		{0, d},
		{50 * time.Millisecond, 150 * time.Millisecond},
		{399 * time.Millisecond, 499 * time.Millisecond},
		{400 * time.Millisecond, 500 * time.Millisecond},
		{480 * time.Millisecond, 500 * time.Millisecond},
		{2 * time.Second, 500 * time.Millisecond},
	}
	for _, c := range cases {
		w.first, w.last = t0, t0.Add(c.last)
		if got := w.applyAt().Sub(t0); got != c.want {
			t.Errorf("last change at +%v: applied at +%v, want +%v", c.last, got, c.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	w := New(Config{Manifest: newManifest(t), Initial: &State{}})
	if w.cfg.Debounce != time.Second || w.cfg.MinRestartInterval != 10*time.Second {
		t.Errorf("defaults: debounce %v, min restart interval %v",
			w.cfg.Debounce, w.cfg.MinRestartInterval)
	}
}
