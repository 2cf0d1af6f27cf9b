package watch

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A file secret used by one template whose on_change is none: an action
// needs no child, and the destination shows what was applied.
const templateOnly = `version: 1
secrets:
  - {from: "file://s.txt", as: s}
templates:
  - {contents: "{{ .s }}", destination: out.txt, on_change: none}
`

// Changes that land within the debounce window are applied once, with
// the last value.
func TestDebounceGathersChanges(t *testing.T) {
	r := newRig(t, templateOnly, map[string]string{"s.txt": "v0"})
	const debounce = 300 * time.Millisecond
	r.cfg.Debounce = debounce
	r.run()

	for _, v := range []string{"v1", "v2", "v3"} {
		r.replace("s.txt", v)
	}
	o := r.next()
	if !slices.Equal(o.Changed, []string{"file://s.txt"}) ||
		!slices.Equal(o.Rewritten, []string{r.path("out.txt")}) || o.Restarted {
		t.Errorf("outcome %+v", o)
	}
	if got := r.read("out.txt"); got != "v3" {
		t.Errorf("the file holds %q, want the last value v3", got)
	}
	// Late events for the same writes find nothing new.
	r.quiet(debounce + 100*time.Millisecond)
}

// Changes that never stop still get applied, 5×Debounce after the first.
func TestDebounceHasAMaximum(t *testing.T) {
	r := newRig(t, templateOnly, map[string]string{"s.txt": "v0"})
	const debounce = 100 * time.Millisecond
	r.cfg.Debounce = debounce
	r.run()

	stop := make(chan struct{})
	writing := make(chan time.Time, 1)
	go func() {
		for i := 1; ; i++ {
			r.replace("s.txt", fmt.Sprint("v", i))
			if i == 1 {
				writing <- time.Now()
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	began := <-writing
	o := r.next()
	took := time.Since(began)
	close(stop)
	if len(o.Rewritten) != 1 {
		t.Errorf("outcome %+v", o)
	}
	// The first write may be seen a little after it was made; the action
	// comes no later than 5×Debounce after that, plus the time to act.
	if limit := 5*debounce + 250*time.Millisecond; took < debounce || took > limit {
		t.Errorf("with changes every 10ms, applied after %v; want between %v and %v",
			took, debounce, limit)
	}
}

// A value that changes and changes back before the debounce runs out is
// no change: nothing is rewritten and nothing is done.
func TestChangeRevertedWithinDebounce(t *testing.T) {
	r := newRig(t, templateOnly, map[string]string{"s.txt": "a"})
	const debounce = 500 * time.Millisecond
	r.cfg.Debounce = debounce
	r.run()

	r.replace("s.txt", "b")
	r.waitLog(1, `msg="secret changed"`, "ref=file://s.txt")
	r.replace("s.txt", "a")
	r.quiet(debounce + 200*time.Millisecond)
	if got := r.read("out.txt"); got != "a" {
		t.Fatalf("the file holds %q, but its secret is back at %q", got, "a")
	}

	// The watcher is still at work.
	r.replace("s.txt", "c")
	if o := r.next(); len(o.Rewritten) != 1 || r.read("out.txt") != "c" {
		t.Errorf("outcome %+v, file %q", o, r.read("out.txt"))
	}
}

// A file that changes after envwrap read it but before its watch is in
// place sends no event; the change is still applied.
func TestChangeBeforeTheWatchStarts(t *testing.T) {
	r := newRig(t, templateOnly, map[string]string{"s.txt": "v0"})
	r.cfg.Debounce = 50 * time.Millisecond
	r.replace("s.txt", "v1")
	r.run()
	if o := r.next(); len(o.Rewritten) != 1 || r.read("out.txt") != "v1" {
		t.Errorf("outcome %+v, file %q", o, r.read("out.txt"))
	}
}

// When one change calls for a restart (one template) and a signal
// (another), the child is restarted and not signalled.
func TestRestartWinsOverSignal(t *testing.T) {
	r := newRig(t, `version: 1
secrets:
  - {from: "file://s.txt", as: s}
templates:
  - {contents: "{{ .s }}", destination: hup.conf, on_change: "signal:SIGHUP"}
  - {contents: "{{ .s }}!", destination: restart.conf, on_change: restart}
`, map[string]string{"s.txt": "v1"})
	r.cfg.Debounce, r.cfg.MinRestartInterval = 50*time.Millisecond, time.Millisecond
	r.superviseHelper()
	r.run()

	r.replace("s.txt", "v2")
	o := r.next()
	if !o.Restarted || len(o.Signalled) != 0 || len(o.Rewritten) != 2 {
		t.Errorf("outcome %+v; want a restart, no signal, two files", o)
	}
	if r.read("hup.conf") != "v2" || r.read("restart.conf") != "v2!" {
		t.Errorf("files hold %q and %q", r.read("hup.conf"), r.read("restart.conf"))
	}
	waitFor(t, "the new child", func() bool { return len(readChildEvents(t, r.dir)) == 3 })
	ev := readChildEvents(t, r.dir)
	if ev[0].what != "start" || ev[1] != (childEvent{what: "exit", pid: ev[0].pid}) ||
		ev[2].what != "start" || ev[2].pid == ev[0].pid {
		t.Errorf("child events %+v; want start, exit, start of another", ev)
	}
}

// A changed environment variable with defaults.on_change none leaves the
// child alone: same process, no signal, and a warning.
func TestEnvChangeWithOnChangeNone(t *testing.T) {
	r := newRig(t, `version: 1
defaults: {on_change: none}
secrets:
  - {env: SECRET, from: "file://s.txt"}
`, map[string]string{"s.txt": "v1"})
	r.cfg.Debounce, r.cfg.MinRestartInterval = 50*time.Millisecond, time.Millisecond
	sup := r.superviseHelper()
	r.run()

	r.replace("s.txt", "v2")
	o := r.next()
	if !slices.Equal(o.Changed, []string{"file://s.txt"}) || o.Restarted ||
		len(o.Signalled) != 0 || o.Err != nil {
		t.Errorf("outcome %+v; want the change recorded and nothing done", o)
	}
	if err := sup.Signal(0); err != nil {
		t.Errorf("the child is gone: %v", err)
	}
	ev := readChildEvents(t, r.dir)
	if len(ev) != 1 || ev[0].what != "start" || ev[0].value != "v1" {
		t.Errorf("child events %+v; want only the first start, with v1", ev)
	}
	if !strings.Contains(r.log.String(), "on_change is none") {
		t.Error("no warning that the child keeps its old environment")
	}
}

// An env change with the default on_change restarts the child with the
// new value; a second change soon after waits for min_restart_interval.
func TestRestartsAreSpaced(t *testing.T) {
	r := newRig(t, "version: 1\nsecrets:\n  - {env: SECRET, from: \"file://s.txt\"}\n",
		map[string]string{"s.txt": "v1"})
	const spacing = 600 * time.Millisecond
	r.cfg.Debounce, r.cfg.MinRestartInterval = 50*time.Millisecond, spacing
	r.superviseHelper()
	r.run()

	r.replace("s.txt", "v2")
	if o := r.next(); !o.Restarted {
		t.Fatalf("outcome %+v; want a restart", o)
	}
	first := time.Now()
	r.replace("s.txt", "v3")
	if o := r.next(); !o.Restarted {
		t.Fatalf("outcome %+v; want a restart", o)
	}
	if gap := time.Since(first); gap < spacing-50*time.Millisecond {
		t.Errorf("the second restart came %v after the first; min_restart_interval is %v",
			gap, spacing)
	}
	var values []string
	waitFor(t, "the third child", func() bool {
		values = values[:0]
		for _, e := range readChildEvents(t, r.dir) {
			if e.what == "start" {
				values = append(values, e.value)
			}
		}
		return len(values) == 3
	})
	if !slices.Equal(values, []string{"v1", "v2", "v3"}) {
		t.Errorf("children started with %q", values)
	}
	if !strings.Contains(r.log.String(), "held back by min_restart_interval") {
		t.Error("the held-back restart was not logged")
	}
}

// A signal action reaches the same child once per change.
func TestSignalOncePerChange(t *testing.T) {
	r := newRig(t, `version: 1
secrets:
  - {from: "file://s.txt", as: s}
templates:
  - {contents: "{{ .s }}", destination: app.conf, on_change: "signal:SIGHUP"}
`, map[string]string{"s.txt": "v1"})
	r.cfg.Debounce = 50 * time.Millisecond
	r.superviseHelper()
	r.run()

	for i, v := range []string{"v2", "v3", "v4"} {
		r.replace("s.txt", v)
		o := r.next()
		if !slices.Equal(o.Signalled, []syscall.Signal{syscall.SIGHUP}) || o.Restarted {
			t.Fatalf("change %d: outcome %+v", i+1, o)
		}
		waitFor(t, "the SIGHUP", func() bool { return len(readChildEvents(t, r.dir)) == i+2 })
	}
	ev := readChildEvents(t, r.dir)
	for _, e := range ev[1:] {
		if e.what != "hup" || e.pid != ev[0].pid {
			t.Errorf("child events %+v; want one start, then SIGHUPs to it", ev)
			break
		}
	}
}
