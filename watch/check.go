package watch

import (
	"context"
	"errors"
	"time"

	"github.com/envwrap/envwrap/source"
)

// check looks at targets again and returns the new secrets of those whose
// value changed. A backend that meets source.Checker is asked for versions
// first, and only the references whose version moved are fetched.
func (w *Watcher) check(ctx context.Context, targets []*target) map[string]source.Secret {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	byScheme := make(map[string][]*target)
	for _, t := range targets {
		byScheme[t.ref.Scheme] = append(byScheme[t.ref.Scheme], t)
	}
	changed := make(map[string]source.Secret)
	for scheme, ts := range byScheme {
		src := w.cfg.Sources[scheme]
		if checker, ok := src.(source.Checker); ok {
			ts = w.moved(ctx, checker, ts)
		}
		w.fetch(ctx, src, ts, changed)
	}
	return changed
}

// moved asks for versions and returns the targets whose version is not
// the one last seen; the others are scheduled as checked.
func (w *Watcher) moved(ctx context.Context, c source.Checker, ts []*target) []*target {
	refs := make([]source.Ref, len(ts))
	for i, t := range ts {
		refs[i] = t.ref
	}
	versions := c.Versions(ctx, refs)
	var out []*target
	now := time.Now()
	for i, v := range versions {
		t := ts[i]
		w.checked(t.ref, v.Err)
		switch {
		case v.Err != nil:
			w.failed(t, v.Err, now)
		case v.ID != "" && v.ID == t.version && !t.refetch:
			// An empty ID means the backend cannot tell; and a lease due
			// for replacement needs a fresh value whatever the version.
			w.log.Debug("unchanged", "ref", t.ref.Raw, "version", v.ID)
			t.schedule(now)
		default:
			out = append(out, t)
		}
	}
	return out
}

// fetch gets the values of ts, batched as the backend likes, and records
// in changed those whose bytes differ from what the child has.
func (w *Watcher) fetch(ctx context.Context, src source.Source, ts []*target,
	changed map[string]source.Secret) {
	if len(ts) == 0 {
		return
	}
	byRef := make(map[string]*target, len(ts))
	refs := make([]source.Ref, len(ts))
	for i, t := range ts {
		refs[i] = t.ref
		byRef[t.ref.Target()] = t
	}
	for _, batch := range src.Batches(refs) {
		results := src.Fetch(ctx, batch)
		now := time.Now()
		for i, res := range results {
			t := byRef[batch[i].Target()]
			w.checked(t.ref, res.Err)
			if res.Err != nil {
				w.failed(t, res.Err, now)
				continue
			}
			w.compare(t, res.Secret, changed)
			t.afterFetch(res.Secret, now)
		}
	}
}

// compare records sec in changed when its value differs from the newest
// one known: a change still waiting for the debounce, else the applied
// one. Comparing with the applied value alone would miss a change back
// to it, and the change waiting would then be applied although the
// source no longer holds it. It logs the versions either way.
func (w *Watcher) compare(t *target, sec source.Secret, changed map[string]source.Secret) {
	old, had := w.pending[t.ref.Target()]
	if !had {
		old, had = w.state.Secrets[t.ref.Target()]
	}
	from := t.version
	t.version = sec.Version
	if had && sameSecret(old, sec) {
		w.log.Debug("unchanged value", "ref", t.ref.Raw, "version", sec.Version)
		return
	}
	w.log.Info("secret changed", "ref", t.ref.Raw, "from_version", from,
		"to_version", sec.Version)
	changed[t.ref.Target()] = sec
}

// failed keeps the last good value and tries again later.
func (w *Watcher) failed(t *target, err error, now time.Time) {
	wait := t.retry(now)
	if errors.Is(err, context.Canceled) {
		return // envwrap is stopping: not a failure worth a warning
	}
	w.log.Warn("refresh failed; keeping the last good value", "ref", t.ref.Raw,
		"err", err, "next_try", wait.Round(time.Millisecond).String())
}

func (w *Watcher) checked(ref source.Ref, err error) {
	if w.cfg.OnCheck != nil {
		w.cfg.OnCheck(ref, err)
	}
}
