package watch

import (
	"context"
	"log/slog"
	"maps"
	"time"

	"github.com/envwrap/envwrap/source"
)

// Watcher runs the rotation loop. One goroutine, the one in Run, owns its
// state.
type Watcher struct {
	cfg     Config
	log     *slog.Logger
	targets map[string]*target // by Ref.Target
	state   *State             // what the child and the files have now
	events  *fileEvents

	pending     map[string]source.Secret // changes waiting for the debounce
	first, last time.Time                // when the pending changes began and last grew
	lastRestart time.Time
}

// New prepares a Watcher. Every target with a refresh interval, and every
// file, is watched; the first looks come one interval after the start.
func New(cfg Config) *Watcher {
	if cfg.Debounce <= 0 {
		cfg.Debounce = DefaultDebounce
	}
	if cfg.MinRestartInterval <= 0 {
		cfg.MinRestartInterval = DefaultMinRestartInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{cfg: cfg, log: log, state: cfg.Initial, targets: make(map[string]*target)}
	now := time.Now()
	for _, s := range cfg.Manifest.Secrets {
		w.add(s.From, s.Refresh, now)
	}
	return w
}

// add registers ref, keeping the shortest interval of the entries that
// share its target.
func (w *Watcher) add(ref source.Ref, interval time.Duration, now time.Time) {
	key := ref.Target()
	t, ok := w.targets[key]
	if !ok {
		t = &target{ref: ref}
		if sec, had := w.state.Secrets[key]; had {
			t.version = sec.Version
			if sec.Lease.Duration > 0 {
				t.setLease(sec.Lease, now)
			}
		}
		w.targets[key] = t
	}
	if ref.Scheme == source.SchemeFile || t.leased() {
		return // files are looked at on events, leases by their life
	}
	if interval > 0 && (t.interval == 0 || interval < t.interval) {
		t.interval = interval
		t.schedule(now)
	}
}

// Run watches until ctx ends. It returns only then, or when file watching
// cannot start. Files are read once as soon as their watches are in
// place; timed secrets are first looked at one interval after New.
func (w *Watcher) Run(ctx context.Context) error {
	events, err := w.watchFiles()
	if err != nil {
		return err
	}
	defer events.close()
	w.events = events
	// A file that changed after it was first read but before its watch
	// was in place sent no event: read every file once now.
	w.gather(w.check(ctx, w.files()))
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		w.reset(timer)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			w.tick(ctx)
		case target := <-events.due:
			w.onFileEvent(ctx, target)
		case err := <-events.errs:
			w.log.Warn("file watching reported an error", "err", err)
		}
	}
}

// files lists the targets that are watched for events rather than timed.
func (w *Watcher) files() []*target {
	var out []*target
	for _, t := range w.targets {
		if t.ref.Scheme == source.SchemeFile {
			out = append(out, t)
		}
	}
	return out
}

// tick runs the checks that are due, then applies changes whose debounce
// has run out.
func (w *Watcher) tick(ctx context.Context) {
	now := time.Now()
	var checks []*target
	for _, t := range due(w.targets, now) {
		if t.leased() && !t.refetch {
			w.renew(ctx, t)
			continue
		}
		checks = append(checks, t)
	}
	if len(checks) > 0 {
		w.gather(w.check(ctx, checks))
	}
	if w.pending != nil && !w.applyAt().After(time.Now()) {
		w.apply(ctx)
	}
}

func (w *Watcher) onFileEvent(ctx context.Context, key string) {
	if t, ok := w.targets[key]; ok {
		w.gather(w.check(ctx, []*target{t}))
	}
}

// gather adds changes to the pending set and restarts the debounce.
func (w *Watcher) gather(changed map[string]source.Secret) {
	if len(changed) == 0 {
		return
	}
	now := time.Now()
	if w.pending == nil {
		w.pending = make(map[string]source.Secret)
		w.first = now
	}
	maps.Copy(w.pending, changed)
	w.last = now
}

// applyAt is when the pending changes are acted on: Debounce after the
// last one, but no later than 5×Debounce after the first.
func (w *Watcher) applyAt() time.Time {
	quiet := w.last.Add(w.cfg.Debounce)
	limit := w.first.Add(5 * w.cfg.Debounce)
	if limit.Before(quiet) {
		return limit
	}
	return quiet
}

// reset aims the timer at the next due check or pending action.
func (w *Watcher) reset(timer *time.Timer) {
	next := earliest(w.targets)
	if w.pending != nil && (next.IsZero() || w.applyAt().Before(next)) {
		next = w.applyAt()
	}
	wait := time.Hour
	if !next.IsZero() {
		wait = max(time.Until(next), 0)
	}
	timer.Reset(wait)
}
