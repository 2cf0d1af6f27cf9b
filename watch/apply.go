package watch

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/render"
	"github.com/envwrap/envwrap/source"
)

// apply acts on the pending changes: rebuild the state, rewrite the files
// whose rendering changed, then restart or signal the child.
func (w *Watcher) apply(ctx context.Context) {
	changed := w.pending
	w.pending = nil
	w.dropReverted(changed)
	if len(changed) == 0 {
		w.log.Info("every pending change was reverted before it was applied; " +
			"nothing to do")
		return
	}
	out := Outcome{Changed: refsOf(changed)}
	defer w.report(&out)

	secrets := maps.Clone(w.state.Secrets)
	maps.Copy(secrets, changed)
	next, err := Build(w.cfg.Manifest, secrets, w.cfg.Inherited)
	if err != nil {
		// The new values cannot be used; the child keeps the old ones.
		out.Err = err
		w.log.Error("changed secrets cannot be used; keeping the last good values",
			"refs", out.Changed, "err", err)
		return
	}
	outs, err := render.RenderAll(w.templates(), next.Data)
	if err != nil {
		// A failing template leaves every file as it was.
		out.Err = err
		w.log.Error("changed secrets cannot be rendered; keeping the last good values",
			"refs", out.Changed, "err", err)
		return
	}
	defer outs.Clear()
	restart, signals := w.rewrite(outs, &out)
	if next.envChanged(w.state) {
		restart = restart || w.envAction()
	}
	w.state = next
	w.act(ctx, restart, signals, &out)
}

// dropReverted removes from changed the secrets that are back at the
// value the child has.
func (w *Watcher) dropReverted(changed map[string]source.Secret) {
	for key, sec := range changed {
		if old, ok := w.state.Secrets[key]; ok && sameSecret(old, sec) {
			delete(changed, key)
		}
	}
}

func (w *Watcher) templates() []*render.Template {
	ts := make([]*render.Template, len(w.cfg.Files))
	for i, f := range w.cfg.Files {
		ts[i] = f.Template
	}
	return ts
}

// rewrite writes the files whose rendering changed. It returns the
// actions their on_change asks for.
func (w *Watcher) rewrite(outs render.Rendered, out *Outcome) (bool, []syscall.Signal) {
	restart := false
	var signals []syscall.Signal
	for i, f := range w.cfg.Files {
		changed, err := f.Template.WriteRendered(outs[i])
		if err != nil {
			w.log.Error("cannot rewrite a file; it keeps its old contents",
				"template", f.Template.Name(), "err", err)
			continue
		}
		if !changed {
			continue
		}
		out.Rewritten = append(out.Rewritten, f.Template.Destination())
		w.log.Info("file rewritten", "destination", f.Template.Destination())
		switch f.OnChange.Kind {
		case manifest.Restart:
			restart = true
		case manifest.Signal:
			if !slices.Contains(signals, f.OnChange.Signal) {
				signals = append(signals, f.OnChange.Signal)
			}
		}
	}
	return restart, signals
}

// envAction says whether a changed environment restarts the child. Only a
// new process sees a new environment, so any on_change but none means a
// restart.
func (w *Watcher) envAction() bool {
	if w.cfg.Manifest.Defaults.OnChange.Kind == manifest.None {
		w.log.Warn("the environment changed but on_change is none; " +
			"the child keeps its old environment")
		return false
	}
	return true
}

// act waits a random splay, then restarts the child or, if no restart is
// due, sends each signal once. Restart wins over signals.
func (w *Watcher) act(ctx context.Context, restart bool, signals []syscall.Signal,
	out *Outcome) {
	if !restart && len(signals) == 0 {
		return
	}
	if !sleep(ctx, w.splay()) {
		return
	}
	if restart {
		w.restart(ctx, out)
		return
	}
	for _, sig := range signals {
		if err := w.cfg.Child.Signal(sig); err != nil {
			w.log.Warn("cannot signal", "signal", signalName(sig), "err", err)
			continue
		}
		out.Signalled = append(out.Signalled, sig)
		w.log.Info("signalled after a change", "signal", signalName(sig))
	}
}

// signalName is SIGHUP rather than Go's "hangup", as supervise and the
// manifest name signals.
func signalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return sig.String()
}

func (w *Watcher) restart(ctx context.Context, out *Outcome) {
	if wait := time.Until(w.lastRestart.Add(w.cfg.MinRestartInterval)); wait > 0 {
		w.log.Info("restart held back by min_restart_interval", "wait", wait.String())
		if !sleep(ctx, wait) {
			return
		}
	}
	w.lastRestart = time.Now()
	if err := w.cfg.Child.Restart(w.state.Env); err != nil {
		w.log.Error("cannot restart the child", "err", err)
		return
	}
	out.Restarted = true
	w.log.Info("restarted the child with the changed secrets", "refs", out.Changed)
}

func (w *Watcher) splay() time.Duration {
	splay := w.cfg.Manifest.Process.Splay
	if splay <= 0 {
		return 0
	}
	return rand.N(splay)
}

func (w *Watcher) report(out *Outcome) {
	if w.cfg.OnApply != nil {
		w.cfg.OnApply(*out)
	}
}

// sleep waits d, or less if ctx ends first; it reports whether it waited
// the whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func refsOf(secrets map[string]source.Secret) []string {
	refs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		refs = append(refs, s.Ref.Raw)
	}
	sort.Strings(refs)
	return refs
}
