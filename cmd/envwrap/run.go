package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/awscfg"
	"github.com/envwrap/envwrap/source/awssm"
	"github.com/envwrap/envwrap/source/file"
	ssmsource "github.com/envwrap/envwrap/source/ssm"
	"github.com/envwrap/envwrap/supervise"
	"github.com/envwrap/envwrap/watch"
)

// fetchError is one or more required secrets that could not be fetched.
type fetchError struct{ errs []error }

func (e *fetchError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return "could not fetch required secrets:\n  " + strings.Join(msgs, "\n  ")
}

// injectError is a set of secrets that cannot become the environment.
type injectError struct{ err error }

func (e *injectError) Error() string { return e.err.Error() }
func (e *injectError) Unwrap() error { return e.err }

// runChild is the default command: fetch, render, inject, supervise, and
// keep the secrets current while the child runs.
func runChild(opts *options, argv []string) (int, error) {
	// Subscribe to every signal before anything else, so that none is
	// lost between fetching and the child's start. The supervisor takes
	// this channel over once the child runs.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	defer signal.Stop(sigs)

	m, files, err := load(opts)
	if err != nil {
		return exitCode(err), err
	}
	srv, err := startHealth(opts, m)
	if err != nil {
		return exitUsage, err
	}
	defer srv.Close()
	set, sig, err := prepareUntilSignal(opts, m, files, sigs)
	if sig != 0 {
		opts.log.Info("interrupted before the command started", "signal", sig.String())
		return 128 + int(sig), nil
	}
	if err != nil {
		return exitCode(err), err
	}
	defer set.close(m, true)
	defer files.remove(opts.log, m)
	srv.SetReady()
	sup := supervise.New(supervise.Config{
		Argv:        argv,
		Env:         set.state.Env,
		StopSignal:  m.Process.StopSignal,
		StopTimeout: m.Process.StopTimeout,
		Signals:     sigs,
		Logger:      opts.log,
		Policy:      policy(m.Process),
		OnExit:      opts.metrics.Exited,
	})
	return superviseAndWatch(opts, m, files, set, sup)
}

// superviseAndWatch runs the child and, beside it, the rotation loop,
// which ends when the child is gone for good.
func superviseAndWatch(opts *options, m *manifest.Manifest, files *files,
	set *resolvedSet, sup *supervise.Supervisor) (int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	w := newWatcher(opts, m, files, set, sup)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if err := w.Run(ctx); err != nil {
			// Said at once: the child runs on, but its secrets stay as
			// they are until envwrap is started again.
			opts.log.Error("rotation is off for this run", "err", err)
		}
	}()
	code, err := sup.Run(context.Background())
	cancel()
	<-watched
	if errors.Is(err, syscall.E2BIG) {
		err = &injectError{fmt.Errorf("the environment (%d bytes in %d variables) and the "+
			"arguments are more than the kernel takes; write large secrets to files: %w",
			size(set.state.Env), len(set.state.Env), err)}
	}
	if err != nil {
		return exitCode(err), err
	}
	return code, nil
}

// size is what strs take on the new process's stack, NULs included.
func size(strs []string) int {
	n := 0
	for _, s := range strs {
		n += len(s) + 1
	}
	return n
}

// newWatcher sets up rotation for child, reporting to the metrics.
func newWatcher(opts *options, m *manifest.Manifest, files *files, set *resolvedSet,
	child watch.Child) *watch.Watcher {
	return watch.New(watch.Config{
		Manifest:           m,
		Sources:            set.sources,
		Files:              files.watched(m),
		Child:              child,
		Inherited:          os.Environ(),
		Initial:            set.state,
		Logger:             opts.log,
		MinRestartInterval: m.Process.MinRestartInterval,
		OnCheck: func(ref source.Ref, err error) {
			opts.metrics.Fetched(ref.Scheme, ref.Raw, err)
		},
		OnApply: func(out watch.Outcome) {
			if out.Err == nil {
				opts.metrics.Rotated(out.Restarted)
			}
		},
	})
}

func policy(p manifest.Process) supervise.Policy {
	return supervise.Policy{OnFailure: p.Restart == manifest.RestartOnFailure,
		MaxRestarts: p.MaxRestarts}
}

// load reads the manifest and compiles its templates.
func load(opts *options) (*manifest.Manifest, *files, error) {
	m, err := manifest.Load(opts.configPath())
	if err != nil {
		return nil, nil, err
	}
	files, err := parseTemplates(m)
	if err != nil {
		return nil, nil, err
	}
	return m, files, nil
}

// resolvedSet is every fetched secret, what it gives the child, and the
// backends it came from.
type resolvedSet struct {
	state   *watch.State
	sources map[string]source.Source
}

// close stops the backends; with revoke, and when the manifest asks for
// it, it revokes the leases of what they fetched.
func (s *resolvedSet) close(m *manifest.Manifest, revoke bool) {
	if s != nil {
		closeSources(s.sources, revoke && m.Vault.RevokeOnExit)
	}
}

// prepareUntilSignal fetches the secrets and writes the files while
// watching for a signal that asks envwrap to stop. Such a signal cancels
// the work and is returned; other signals (a window resize, say) are
// dropped, as there is no child yet to give them to.
func prepareUntilSignal(opts *options, m *manifest.Manifest, files *files,
	sigs <-chan os.Signal) (*resolvedSet, syscall.Signal, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type outcome struct {
		set *resolvedSet
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		set, err := prepare(ctx, opts, m, files)
		done <- outcome{set, err}
	}()
	for {
		select {
		case o := <-done:
			return o.set, 0, o.err
		case s := <-sigs:
			sig, _ := s.(syscall.Signal)
			if stopsEnvwrap(sig) {
				cancel()
				<-done
				return nil, sig, nil
			}
		}
	}
}

func stopsEnvwrap(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP:
		return true
	}
	return false
}

// prepare fetches every secret, builds the variables and renders every
// template: all that must be done before the child may start.
func prepare(ctx context.Context, opts *options, m *manifest.Manifest,
	files *files) (*resolvedSet, error) {
	set, err := fetchAll(ctx, opts, m)
	if err != nil {
		return nil, err
	}
	if err := files.write(opts.log, set.state.Data); err != nil {
		set.close(m, true)
		return nil, err
	}
	return set, nil
}

// fetchAll resolves every secret and derives the child's environment and
// the templates' data from them.
func fetchAll(ctx context.Context, opts *options, m *manifest.Manifest) (*resolvedSet, error) {
	sources := buildSources(ctx, opts, m)
	secrets, err := resolve(ctx, opts, m, sources)
	if err != nil {
		closeSources(sources, m.Vault.RevokeOnExit)
		return nil, err
	}
	state, err := watch.Build(m, secrets, os.Environ())
	if err != nil {
		closeSources(sources, m.Vault.RevokeOnExit)
		return nil, &injectError{err}
	}
	return &resolvedSet{state: state, sources: sources}, nil
}

// resolve fetches the manifest's references. Failures of optional secrets
// are logged; failures of required ones are returned together.
func resolve(ctx context.Context, opts *options, m *manifest.Manifest,
	sources map[string]source.Source) (map[string]source.Secret, error) {
	refs := make([]source.Ref, len(m.Secrets))
	for i, s := range m.Secrets {
		refs[i] = s.From
	}
	r := &source.Resolver{Sources: sources, Logger: opts.log, Deadline: opts.fetchTimeout,
		OnResult: func(ref source.Ref, err error) {
			opts.metrics.Fetched(ref.Scheme, ref.Raw, err)
		}}
	results := r.Resolve(ctx, refs)
	return collect(opts.log, m, results)
}

func collect(log *slog.Logger, m *manifest.Manifest, results map[string]source.Result) (
	map[string]source.Secret, error) {
	out := make(map[string]source.Secret, len(results))
	var errs []error
	reported := make(map[string]bool)
	for _, s := range m.Secrets {
		res := results[s.From.Target()]
		switch {
		case res.Err == nil:
			out[s.From.Target()] = res.Secret
		case s.Optional:
			log.Warn("optional secret not fetched; its variables are left unset",
				"ref", s.From.Raw, "err", res.Err)
		case !reported[s.From.Target()]:
			reported[s.From.Target()] = true
			errs = append(errs, res.Err)
		}
	}
	if len(errs) > 0 {
		return nil, &fetchError{errs}
	}
	return out, nil
}

// buildSources makes the backends the manifest's references need, and
// only those: a manifest of files never touches AWS configuration.
func buildSources(ctx context.Context, opts *options,
	m *manifest.Manifest) map[string]source.Source {
	need := make(map[string]bool)
	for _, s := range m.Secrets {
		need[s.From.Scheme] = true
	}
	sources := map[string]source.Source{
		source.SchemeFile: file.New(filepath.Dir(m.File)),
	}
	if need[source.SchemeVault] {
		sources[source.SchemeVault] = vaultSource(ctx, opts, m)
	}
	if !need[source.SchemeSecretsManager] && !need[source.SchemeParameterStore] {
		return sources
	}
	o := awscfg.Options{Region: m.AWS.Region, Endpoint: m.AWS.Endpoint,
		OnCall: opts.metrics.Called}
	cfg, err := awscfg.Load(ctx, o)
	if err != nil {
		// Each AWS reference fails with this error, so that optional ones
		// are only logged and required ones are named.
		broken := source.Broken(source.Permanent(fmt.Errorf("aws: %w", err)))
		sources[source.SchemeSecretsManager] = broken
		sources[source.SchemeParameterStore] = broken
		return sources
	}
	sources[source.SchemeSecretsManager] = awssm.New(awscfg.SecretsManagerClient(cfg, o))
	sources[source.SchemeParameterStore] = ssmsource.New(awscfg.SSMClient(cfg, o))
	return sources
}
