package watch

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/envwrap/envwrap/inject"
	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/render"
	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
)

// State is everything derived from one resolved set of secrets: the
// variables, the child's environment, and what templates see.
type State struct {
	Secrets map[string]source.Secret // by Ref.Target
	Vars    []inject.Var
	Env     []string
	Data    render.Data
}

// BuildError is a resolved set that cannot become variables or template
// data: a name clash, a value with NUL, a missing JSON key.
type BuildError struct{ Err error }

func (e *BuildError) Error() string { return e.Err.Error() }
func (e *BuildError) Unwrap() error { return e.Err }

// Build derives a State from secrets, with inherited as the environment
// envwrap itself was given.
func Build(m *manifest.Manifest, secrets map[string]source.Secret,
	inherited []string) (*State, error) {
	vars, err := inject.Vars(m, secrets)
	if err != nil {
		return nil, &BuildError{err}
	}
	data, err := templateData(m, secrets, vars)
	if err != nil {
		return nil, &BuildError{err}
	}
	return &State{
		Secrets: secrets,
		Vars:    vars,
		Env:     inject.Environ(m.Environment, inherited, vars),
		Data:    data,
	}, nil
}

// envChanged reports whether the child's environment differs.
func (s *State) envChanged(old *State) bool {
	return !slices.Equal(s.Env, old.Env)
}

// templateData is what templates see: every secret with an as-name (a
// path's parameters as a JSON object of their relative names) and every
// variable by name.
func templateData(m *manifest.Manifest, secrets map[string]source.Secret,
	vars []inject.Var) (render.Data, error) {
	data := render.Data{
		Secrets: make(map[string]secret.Value),
		Vars:    make(map[string]secret.Value, len(vars)),
	}
	for _, v := range vars {
		data.Vars[v.Name] = v.Value
	}
	for _, s := range m.Secrets {
		sec, ok := secrets[s.From.Target()]
		if s.As == "" || !ok {
			continue
		}
		value, err := wholeValue(s, sec)
		if err != nil {
			return render.Data{}, fmt.Errorf("%s: %w", s.Where(m.File), err)
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

// sameSecret reports whether two fetches of one reference hold the same
// value; a new version with the same bytes is no change.
func sameSecret(a, b source.Secret) bool {
	if a.Binary != b.Binary || !a.Value.Equal(b.Value) || len(a.Tree) != len(b.Tree) {
		return false
	}
	if (a.Tree == nil) != (b.Tree == nil) {
		return false
	}
	for k, v := range a.Tree {
		if w, ok := b.Tree[k]; !ok || !v.Equal(w) {
			return false
		}
	}
	return true
}
