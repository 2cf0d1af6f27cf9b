package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"text/tabwriter"
)

// check validates the manifest and, with --resolve, that every reference
// can be fetched. It prints variable names and where they come from,
// never a value.
func check(opts *options, args []string) (int, error) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	resolveAll := fs.Bool("resolve", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage, fmt.Errorf("check takes only --resolve")
	}
	m, files, err := load(opts)
	if err != nil {
		return exitCode(err), err
	}
	if !*resolveAll {
		fmt.Printf("%s: valid, %d secrets, %d templates\n",
			m.File, len(m.Secrets), len(m.Templates))
		return 0, nil
	}
	set, err := fetchAll(context.Background(), opts, m)
	if err != nil {
		return exitCode(err), err
	}
	defer set.close(m, true) // what was fetched only to check it is revoked
	vars := set.state.Vars
	if err := files.check(set); err != nil {
		return exitCode(err), err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VARIABLE\tFROM\tKEY")
	for _, v := range vars {
		fmt.Fprintf(w, "%s\t%s\t%s\n", v.Name, v.From.From.Raw, v.Key)
	}
	_ = w.Flush()
	missing := 0
	for _, s := range m.Secrets {
		if _, ok := set.state.Secrets[s.From.Target()]; !ok {
			missing++
		}
	}
	fmt.Printf("%s: valid, %d secrets (%d optional ones not fetched), %d variables, "+
		"%d templates rendered\n", m.File, len(m.Secrets), missing, len(vars), len(m.Templates))
	return 0, nil
}

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// versionLine is name, version, commit and Go version on one line.
func versionLine() string {
	commit := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				commit = s.Value[:12]
			}
		}
	}
	return fmt.Sprintf("envwrap %s (commit %s, %s %s/%s)",
		version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
