// Package watch keeps the child's secrets current while it runs. It owns
// when each secret is looked at again (its refresh interval, with jitter,
// or a file event), how cheaply (a version check before any value is
// fetched), what counts as a change (new bytes, not a new version id), and
// what a change does: rewrite the files whose rendering changed, then
// signal the child or restart it, restart winning, after a random splay.
// A refresh that fails keeps the last good values and the child untouched.
package watch

import (
	"log/slog"
	"syscall"
	"time"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/render"
	"github.com/envwrap/envwrap/source"
)

// Child is what rotation acts on: the supervised child, or in agent mode
// a process found by pid file or name.
type Child interface {
	Signal(sig syscall.Signal) error
	Restart(env []string) error
}

// File is a template and its destination, rewritten when its rendering
// changes.
type File struct {
	Template *render.Template
	OnChange manifest.Action
}

// Defaults for the zero values of Config.
const (
	DefaultDebounce           = time.Second
	DefaultMinRestartInterval = 10 * time.Second
	// checkTimeout bounds one round of checks and fetches; a round that
	// runs out counts as a failure and is retried with backoff.
	checkTimeout = 30 * time.Second
)

// Config says what to watch and what to act on.
type Config struct {
	Manifest  *manifest.Manifest
	Sources   map[string]source.Source // by scheme
	Files     []File
	Child     Child
	Inherited []string // envwrap's own environment, for the child's
	Initial   *State   // what the child was started with
	Logger    *slog.Logger

	// Debounce gathers changes that land close together into one action:
	// the action waits until no change has come for Debounce, and at most
	// 5×Debounce after the first. Zero means 1s.
	Debounce time.Duration
	// MinRestartInterval spaces restarts; a restart due sooner waits.
	// Zero means 10s.
	MinRestartInterval time.Duration
	// OnApply, if set, is called after each action with what was done;
	// metrics and tests use it.
	OnApply func(Outcome)
	// OnCheck, if set, is told of every version check and fetch.
	OnCheck func(ref source.Ref, err error)
}

// Outcome is what one round of changes led to.
type Outcome struct {
	Changed   []string // references whose value changed
	Rewritten []string // destinations written
	Restarted bool
	Signalled []syscall.Signal
	Err       error // the change could not be applied; nothing was done
}
