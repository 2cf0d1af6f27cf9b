package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"slices"

	"github.com/envwrap/envwrap/inject"
	"github.com/envwrap/envwrap/manifest"
)

// exportEnv is the env command: it fetches the secrets and prints their
// variables for another program, as `eval "$(envwrap env)"` in a shell.
// It is the one command that prints values, and only on stdout.
func exportEnv(opts *options, args []string) (int, error) {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "sh", "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 ||
		!slices.Contains(inject.Formats, *format) {
		return exitUsage, errors.New("env takes only --format sh|dotenv|json")
	}
	m, err := manifest.Load(opts.configPath())
	if err != nil {
		return exitCode(err), err
	}
	set, err := fetchAll(context.Background(), opts, m)
	if err != nil {
		return exitCode(err), err
	}
	// The values printed outlive envwrap: their leases are not revoked.
	defer set.close(m, false)
	if err := inject.Export(os.Stdout, set.state.Vars, *format); err != nil {
		return exitUsage, err
	}
	return 0, nil
}
