package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/envwrap/envwrap/inject"
	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/render"
	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
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
	for i, t := range f.templates {
		changed, err := t.Write(data)
		if err != nil {
			return &renderError{err}
		}
		log.Info("rendered", "template", f.specs[i].Name,
			"destination", f.specs[i].Destination, "changed", changed)
	}
	return nil
}

// check renders every template in memory, writing nothing.
func (f *files) check(m *manifest.Manifest, set *resolvedSet) error {
	data, err := templateData(m, set.secrets, set.vars)
	if err != nil {
		return err
	}
	for _, t := range f.templates {
		if _, err := t.Execute(data); err != nil {
			return &renderError{err}
		}
	}
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
	if _, err := prepare(context.Background(), opts, m, files); err != nil {
		return exitCode(err), err
	}
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

// templateData is what templates see: every secret with an as-name, the
// whole value (a path's parameters as a JSON object of relative names),
// and every variable by name.
func templateData(m *manifest.Manifest, resolved map[string]source.Secret,
	vars []inject.Var) (render.Data, error) {
	data := render.Data{
		Secrets: make(map[string]secret.Value),
		Vars:    make(map[string]secret.Value, len(vars)),
	}
	for _, v := range vars {
		data.Vars[v.Name] = v.Value
	}
	for _, s := range m.Secrets {
		sec, ok := resolved[s.From.Target()]
		if s.As == "" || !ok {
			continue
		}
		value, err := wholeValue(s, sec)
		if err != nil {
			return render.Data{}, &injectError{fmt.Errorf("%s: %w", s.Where(m.File), err)}
		}
		data.Secrets[s.As] = value
	}
	return data, nil
}

func wholeValue(s manifest.Secret, sec source.Secret) (secret.Value, error) {
	if sec.Tree != nil {
		obj := make(map[string]string, len(sec.Tree))
		for k, v := range sec.Tree {
			obj[k] = v.Reveal()
		}
		b, err := json.Marshal(obj)
		return secret.New(b), err
	}
	if s.From.Key == "" {
		return sec.Value, nil
	}
	v, err := source.Field(sec.Value, s.From.Key)
	if err != nil {
		return secret.Value{}, fmt.Errorf("%s: %w", s.From, err)
	}
	return v, nil
}
