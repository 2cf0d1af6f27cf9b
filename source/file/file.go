// Package file is the local-file backend, for development and for volumes
// that Kubernetes or a CSI driver keep current. A reference names a file;
// dotenv and JSON files give named values, anything else is one value.
package file

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
)

var _ source.Source = (*Source)(nil)

// Source reads secrets from local files.
type Source struct {
	dir string
}

// New returns a file backend that resolves relative paths against dir,
// normally the manifest's directory.
func New(dir string) *Source { return &Source{dir: dir} }

// Batches reads each file on its own; local reads are cheap.
func (s *Source) Batches(refs []source.Ref) [][]source.Ref {
	out := make([][]source.Ref, len(refs))
	for i, r := range refs {
		out[i] = []source.Ref{r}
	}
	return out
}

// Fetch reads the files. A dotenv file becomes a JSON object of its
// names, so that #KEY, env maps and prefix work the same for every
// backend.
func (s *Source) Fetch(_ context.Context, refs []source.Ref) []source.Result {
	out := make([]source.Result, len(refs))
	for i, ref := range refs {
		sec, err := s.read(ref)
		if err != nil {
			err = &source.RefError{Ref: ref, Err: err}
		}
		out[i] = source.Result{Secret: sec, Err: err}
	}
	return out
}

func (s *Source) read(ref source.Ref) (source.Secret, error) {
	path := s.path(ref.Locator)
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return source.Secret{}, source.Permanent(fmt.Errorf("file: %s: %w", path, source.ErrNotFound))
	case err != nil:
		return source.Secret{}, source.Permanent(fmt.Errorf("file: %w", err))
	case !info.Mode().IsRegular():
		// A FIFO or a device could block the read for ever, past every
		// deadline and signal.
		return source.Secret{}, source.Permanent(fmt.Errorf("file: %s is not a regular file", path))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return source.Secret{}, source.Permanent(fmt.Errorf("file: %w", err))
	}
	value, err := decode(path, Format(ref), data)
	if err != nil {
		return source.Secret{}, source.Permanent(err)
	}
	version := info.ModTime().UTC().Format("2006-01-02T15:04:05.000000000Z")
	return source.Secret{Ref: ref, Version: version, Value: value,
		Composite: Format(ref) == "dotenv"}, nil
}

func (s *Source) path(locator string) string {
	if filepath.IsAbs(locator) || s.dir == "" {
		return locator
	}
	return filepath.Join(s.dir, locator)
}

// Format is the reference's file format: ?format= if given, otherwise by
// name: *.json is json, *.env and .env* are dotenv, anything else raw.
func Format(ref source.Ref) string {
	if f := ref.Query.Get("format"); f != "" {
		return f
	}
	base := filepath.Base(ref.Locator)
	switch {
	case strings.HasSuffix(base, ".json"):
		return "json"
	case strings.HasSuffix(base, ".env") || strings.HasPrefix(base, ".env"):
		return "dotenv"
	}
	return "raw"
}

func decode(path, format string, data []byte) (secret.Value, error) {
	switch format {
	case "raw":
		return secret.New(data), nil
	case "json":
		if !json.Valid(data) {
			return secret.Value{}, fmt.Errorf("file: %s is not valid JSON", path)
		}
		return secret.New(data), nil
	case "dotenv":
		vars, err := parseDotenv(data)
		if err != nil {
			return secret.Value{}, fmt.Errorf("file: %s:%w", path, err)
		}
		b, err := json.Marshal(vars)
		if err != nil {
			return secret.Value{}, fmt.Errorf("file: %s: %w", path, err)
		}
		return secret.New(b), nil
	}
	return secret.Value{}, fmt.Errorf("file: unknown format %q", format)
}
