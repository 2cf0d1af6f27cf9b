package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/envwrap/envwrap/health"
	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/supervise"
)

// runAgent is the agent command: no child of its own. It renders the
// templates, keeps them fresh, and tells the application beside it of a
// change, until SIGTERM or SIGINT.
func runAgent(opts *options, args []string) (int, error) {
	if len(args) > 0 {
		return exitUsage, errors.New("agent takes no arguments")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// The agent has no child to pass SIGHUP to, and must not die of it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			opts.log.Info("SIGHUP received; the agent has no child to pass it to")
		}
	}()
	m, files, err := load(opts)
	if err != nil {
		return exitCode(err), err
	}
	if m.Agent == nil {
		return exitManifest, fmt.Errorf("%s: agent: the manifest needs an agent section "+
			"saying how to notify the application", m.File)
	}
	srv, err := startHealth(opts, m)
	if err != nil {
		return exitUsage, err
	}
	defer srv.Close()
	set, err := prepare(ctx, opts, m, files)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil // stopped before the first render
		}
		return exitCode(err), err
	}
	defer set.close(m, true)
	srv.SetReady()
	target := &supervise.Target{PIDFile: m.Agent.PIDFile, ProcessName: m.Agent.ProcessName,
		Command: m.Agent.Command, Logger: opts.log}
	if err := newWatcher(opts, m, files, set, target).Run(ctx); err != nil {
		return exitInternal, err
	}
	opts.log.Info("agent stopped")
	return 0, nil
}

// startHealth starts the health listener that --listen or the manifest
// asks for; without either it returns a nil Server, whose methods do
// nothing.
func startHealth(opts *options, m *manifest.Manifest) (*health.Server, error) {
	addr := opts.listen
	if addr == "" {
		addr = m.Health.Listen
	}
	if addr == "" {
		return nil, nil
	}
	srv, err := health.Listen(addr, opts.log)
	if err != nil {
		return nil, err
	}
	opts.metrics = srv.Metrics
	go srv.Serve()
	return srv, nil
}

// probe is a health check for images without curl: it exits 0 when url
// answers 2xx within five seconds.
func probe(args []string) (int, error) {
	if len(args) != 1 {
		return exitUsage, errors.New("probe takes one URL, e.g. http://127.0.0.1:9102/readyz")
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(args[0])
	if err != nil {
		return 1, fmt.Errorf("probe: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 1, fmt.Errorf("probe: %s answered %s", args[0], resp.Status)
	}
	fmt.Fprintln(os.Stdout, "ok")
	return 0, nil
}
