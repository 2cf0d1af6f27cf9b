package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/render"
	"github.com/envwrap/envwrap/watch"
)

// renderError is a template that could not be rendered or written.
type renderError struct{ err error }

func (e *renderError) Error() string { return e.err.Error() }
func (e *renderError) Unwrap() error { return e.err }

// files is the manifest's templates, parsed once.
type files struct {
	specs     []render.Spec
	templates []*render.Template
}

// parseTemplates reads and compiles every template before anything is
// fetched, so that a broken template fails fast.
func parseTemplates(m *manifest.Manifest) (*files, error) {
	f := &files{}
	var errs []error
	for _, t := range m.Templates {
		spec := specOf(t)
		tmpl, err := render.Parse(spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.specs = append(f.specs, spec)
		f.templates = append(f.templates, tmpl)
	}
	if len(errs) > 0 {
		return nil, &renderError{errors.Join(errs...)}
	}
	return f, nil
}

func specOf(t manifest.Template) render.Spec {
	return render.Spec{
		Name:        t.Name(),
		Source:      t.Source,
		Contents:    t.Contents,
		Destination: t.Destination,
		Mode:        t.Mode,
		UID:         t.UID,
		GID:         t.GID,
		CreateDirs:  t.CreateDirs,
		MissingKey:  t.MissingKey, // manifest and render share "error" and "empty"
	}
}

// write renders every template and writes the files that changed. It
// stops at the first failure: the child must not start on half its files.
func (f *files) write(log *slog.Logger, data render.Data) error {
	// Render every template first, so that one that fails leaves no
	// other file half the story.
	outs, err := render.RenderAll(f.templates, data)
	if err != nil {
		return &renderError{err}
	}
	defer outs.Clear()
	for i, t := range f.templates {
		changed, err := t.WriteRendered(outs[i])
		if err != nil {
			return &renderError{err}
		}
		log.Info("rendered", "template", f.specs[i].Name,
			"destination", f.specs[i].Destination, "changed", changed)
	}
	return nil
}

// watched pairs each template with its on_change, for rotation.
func (f *files) watched(m *manifest.Manifest) []watch.File {
	out := make([]watch.File, len(f.templates))
	for i, t := range f.templates {
		out[i] = watch.File{Template: t, OnChange: m.Templates[i].OnChange}
	}
	return out
}

// check renders every template in memory, writing nothing.
func (f *files) check(set *resolvedSet) error {
	outs, err := render.RenderAll(f.templates, set.state.Data)
	if err != nil {
		return &renderError{err}
	}
	outs.Clear()
	return nil
}

// renderOnce is the render command: fetch, write every file, exit. It is
// what an init container or a deploy script runs.
func renderOnce(opts *options, args []string) (int, error) {
	if len(args) > 0 {
		return exitUsage, fmt.Errorf("render takes no arguments")
	}
	m, files, err := load(opts)
	if err != nil {
		return exitCode(err), err
	}
	set, err := prepare(context.Background(), opts, m, files)
	if err != nil {
		return exitCode(err), err
	}
	// The files outlive envwrap: their leases must not be revoked.
	set.close(m, false)
	return 0, nil
}

// remove deletes the files whose templates ask for it, once the child
// has exited.
func (f *files) remove(log *slog.Logger, m *manifest.Manifest) {
	for i, t := range m.Templates {
		if !t.RemoveOnExit {
			continue
		}
		if err := render.Remove(f.specs[i]); err != nil {
			log.Warn("could not remove a rendered file", "destination", t.Destination, "err", err)
		}
	}
}
