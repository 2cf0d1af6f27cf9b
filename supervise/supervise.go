// Package supervise owns the child process: it starts it, forwards signals
// to it, reaps it and every orphan left to envwrap, stops and restarts it, and
// turns the way it ended into envwrap's exit status.
//
// One goroutine, the loop inside Run, owns all of this. It alone waits for
// processes (wait4 on any child, never os/exec's Wait), and it alone sends
// signals, so a PID is never signalled after it was reaped. Because it reaps
// every child of the process, nothing else in envwrap may start processes
// with os/exec while Run is active: their Wait would race the reaper.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultStopSignal  = syscall.SIGTERM
	DefaultStopTimeout = 30 * time.Second
)

// signalBuffer is how many signals may queue before os/signal drops one.
const signalBuffer = 128

// ErrNotRunning is returned by Signal and Restart when Run has not started
// a child yet, or has already returned.
var ErrNotRunning = errors.New("supervise: no child is running")

// errStopping answers a restart that envwrap gave up because it is stopping.
var errStopping = errors.New("supervise: restart abandoned: stopping")

// Config says what to run and how to stop it.
type Config struct {
	// Argv is the command and its arguments, passed verbatim with no shell.
	// Argv[0] is looked up in $PATH (exec.LookPath) unless it contains a
	// slash.
	Argv []string

	// Env is the child's full environment, "NAME=value". Nil means empty.
	Env []string

	// StopSignal is sent when envwrap itself stops or restarts the child.
	// Zero means SIGTERM.
	StopSignal syscall.Signal

	// StopTimeout is how long a stopping child may take before its process
	// group gets SIGKILL. Zero means 30s.
	StopTimeout time.Duration

	// Signals are the signals envwrap receives. It must carry SIGCHLD, or
	// reaping falls back to a slow poll. Nil means Run subscribes to every
	// signal itself. Pass a channel that was subscribed early (signal.Notify
	// with no signals, buffered) so that a signal arriving while secrets are
	// fetched waits in it and reaches the child right after it starts.
	Signals <-chan os.Signal

	// Logger receives start, exit and signal events. Nil discards them.
	Logger *slog.Logger

	// Policy says what happens when the child exits on its own. The zero
	// value ends Run with the child's status.
	Policy Policy

	// OnExit, if set, is told of every exit of a child: its status, and
	// whether the policy restarts it. Metrics use it.
	OnExit func(code int, restarting bool)
}

// Policy restarts a child that failed, with exponential backoff.
type Policy struct {
	// OnFailure starts the child again when it exits with a non-zero
	// status or dies of a signal, unless envwrap is stopping.
	OnFailure bool
	// MaxRestarts bounds the restarts after failures; once used up, Run
	// ends with the last status. Zero means no bound.
	MaxRestarts int
	// Backoff is the wait before the first restart, doubled each time up
	// to MaxBackoff. Zeros mean 1s and 1m.
	Backoff, MaxBackoff time.Duration
}

// Supervisor runs one child at a time. Its methods are safe for concurrent
// use; Run may be called once.
type Supervisor struct {
	cfg      Config
	log      *slog.Logger
	requests chan request
	ran      atomic.Bool
	ready    chan struct{} // closed once a child runs and requests are served
	done     chan struct{} // closed when Run returns
}

// request asks the loop to signal the child, or to restart it with env.
// The loop answers every request it accepts on reply, which has room for
// one answer so the loop never blocks.
type request struct {
	restart bool
	sig     syscall.Signal
	env     []string
	reply   chan error
}

// New returns a Supervisor for cfg, with the zero values filled in.
func New(cfg Config) *Supervisor {
	if cfg.StopSignal == 0 {
		cfg.StopSignal = DefaultStopSignal
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{
		cfg:      cfg,
		log:      log,
		requests: make(chan request),
		ready:    make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// Run starts the child and blocks until it is gone, forwarding signals and
// reaping orphans meanwhile. It returns the exit code envwrap should use:
// the child's code, or 128+N if it died of signal N.
//
// Every signal envwrap receives is forwarded to the child once, except
// SIGCHLD and SIGURG. SIGTERM, SIGINT, SIGQUIT and StopSignal also start
// the stop timeout, after which the child's process group gets SIGKILL.
// Signals that arrive before the child has started are not lost: they wait
// in the channel and are forwarded as soon as it runs. To cover the time
// before Run is called, pass Config.Signals, subscribed early; a caller that
// would rather not start the child at all cancels ctx instead.
//
// When ctx is cancelled Run stops the child (StopSignal, then SIGKILL to its
// process group after StopTimeout) and returns the child's code with a nil
// error. If ctx is already done, no child is started and Run returns 1 and
// an error. If the command cannot run, the error is a *StartError and the
// code its Code. Any other error comes with code 1.
func (s *Supervisor) Run(ctx context.Context) (int, error) {
	if !s.ran.CompareAndSwap(false, true) {
		return 1, errors.New("supervise: Run called twice")
	}
	defer close(s.done)
	if err := ctx.Err(); err != nil {
		return 1, fmt.Errorf("supervise: child not started: %w", err)
	}

	sigs := s.cfg.Signals
	if sigs == nil {
		ch := make(chan os.Signal, signalBuffer)
		signal.Notify(ch)
		defer signal.Stop(ch)
		sigs = ch
	}
	becomeSubreaper(s.log)

	l := newLoop(s.cfg, s.log, sigs, s.requests)
	if err := l.start(s.cfg.Env); err != nil {
		return startCode(err), err
	}
	close(s.ready)
	return l.run(ctx)
}

// Signal delivers sig to the current child; signal 0 only checks that
// there is one. It returns ErrNotRunning when there is no child.
func (s *Supervisor) Signal(sig syscall.Signal) error {
	return s.send(request{sig: sig})
}

// Restart stops the current child (StopSignal, then SIGKILL after
// StopTimeout) and, only once it has been reaped, starts a new one with env,
// so that at most one child is ever alive. It returns when the new child has
// started, with a *StartError if it could not; Run then returns too.
// Restarts requested while one is under way are merged: the newest env wins.
// Once envwrap is stopping (ctx cancelled, or a terminating signal), a
// restart is refused with an error and no new child starts.
func (s *Supervisor) Restart(env []string) error {
	return s.send(request{restart: true, env: env})
}

// send hands r to the loop and waits for its answer.
func (s *Supervisor) send(r request) error {
	select {
	case <-s.ready:
	default:
		return ErrNotRunning
	}
	r.reply = make(chan error, 1)
	select {
	case s.requests <- r:
		return <-r.reply
	case <-s.done:
		return ErrNotRunning
	}
}

// startCode is the exit code for a failed start.
func startCode(err error) int {
	var se *StartError
	if errors.As(err, &se) {
		return se.Code
	}
	return 1
}
