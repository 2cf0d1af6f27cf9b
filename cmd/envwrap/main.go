// Command envwrap fetches secrets named in a manifest, gives them to a
// child process as environment variables, and supervises that child the
// way an init process would. This file holds the command line and the
// one table that maps failures to exit codes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/envwrap/envwrap/health"
	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/supervise"
)

// Exit codes of envwrap's own failures. The child's own status passes
// through unchanged, so these are chosen from the sysexits range that
// few programs use.
const (
	exitUsage    = 64 // bad flags or arguments
	exitManifest = 65 // the manifest is invalid
	exitNoConfig = 66 // the manifest cannot be read
	exitFetch    = 69 // a required secret could not be fetched
	exitInternal = 70 // a bug or an unexpected system error
	exitRender   = 73 // a template could not be rendered or its file written
	exitEnv      = 78 // the secrets cannot become the child's environment
	exitNoExec   = 126
	exitNotFound = 127
)

const usage = `envwrap fetches secrets and runs a command with them.

USAGE
  envwrap [flags] -- command [args...]   run command with the secrets
  envwrap [flags] render                 fetch, write every template's file, exit
  envwrap [flags] agent                  no child: keep files fresh, notify an app
  envwrap probe URL                      exit 0 if URL answers 2xx (health checks)
  envwrap [flags] check [--resolve]      validate the manifest (and fetch, render)
  envwrap [flags] env [--format F]       print the variables for eval: sh, dotenv, json
  envwrap version                        print the version

FLAGS
  -c, --config FILE      manifest (default $ENVWRAP_CONFIG, then ./envwrap.yaml)
  --log-level LEVEL      debug, info, warn or error (default info)
  --log-format FORMAT    text or json (default text)
  --fetch-timeout DUR    total time for fetching, retries included (default 1m;
                         0 means no bound)
  --listen ADDR          serve /livez, /readyz, /metrics on ADDR (default: the
                         manifest's health.listen; none without it)
  -h, --help             show this help

EXIT STATUS
  the child's    when the child exits, envwrap exits with its status
  128+N          the child (or envwrap, before the child started) died of signal N
  64             bad command line
  65             the manifest is invalid
  66             the manifest cannot be read
  69             a required secret could not be fetched
  70             internal error
  73             a template could not be rendered or its file written
  78             the secrets cannot become the environment (name clash, NUL, size)
  126            the command cannot be run
  127            the command was not found
`

// options are the global flags.
type options struct {
	config       string
	logLevel     string
	logFormat    string
	fetchTimeout time.Duration
	listen       string
	log          *slog.Logger
	metrics      *health.Metrics // nil without a health listener
}

func main() {
	os.Exit(run(os.Args[1:], supervise.TerminalWriter(os.Stderr)))
}

// run is main without the exit, so that the exit code mapping is in one
// place and testable.
func run(args []string, stderr io.Writer) int {
	opts, rest, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(os.Stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "envwrap: %v\nrun 'envwrap --help' for usage\n", err)
		return exitUsage
	}
	code, err := dispatch(opts, rest)
	if err != nil {
		fmt.Fprintf(stderr, "envwrap: %v\n", err)
	}
	return code
}

func dispatch(opts *options, rest []string) (int, error) {
	if len(rest) == 0 {
		return exitUsage, errors.New("nothing to run: put the command after --, " +
			"e.g. envwrap -- app; see --help")
	}
	switch rest[0] {
	case "--":
		if len(rest) == 1 {
			return exitUsage, errors.New("no command after --")
		}
		return runChild(opts, rest[1:])
	case "check":
		return check(opts, rest[1:])
	case "render":
		return renderOnce(opts, rest[1:])
	case "agent":
		return runAgent(opts, rest[1:])
	case "probe":
		return probe(rest[1:])
	case "env":
		return exportEnv(opts, rest[1:])
	case "version":
		fmt.Println(versionLine())
		return 0, nil
	}
	return exitUsage, fmt.Errorf("unknown command %q; to run a program put -- before it", rest[0])
}

// parseFlags reads the global flags up to the first non-flag word or --.
func parseFlags(args []string, stderr io.Writer) (*options, []string, error) {
	opts := &options{}
	fs := flag.NewFlagSet("envwrap", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&opts.config, "c", "", "")
	fs.StringVar(&opts.config, "config", "", "")
	fs.StringVar(&opts.logLevel, "log-level", "info", "")
	fs.StringVar(&opts.logFormat, "log-format", "text", "")
	fs.DurationVar(&opts.fetchTimeout, "fetch-timeout", time.Minute, "")
	fs.StringVar(&opts.listen, "listen", "", "")
	// flag.Parse swallows "--"; stop before it so that the command after
	// it is never mistaken for a subcommand.
	end := slices.Index(args, "--")
	if end < 0 {
		end = len(args)
	}
	if err := fs.Parse(args[:end]); err != nil {
		return nil, nil, err
	}
	rest := append(fs.Args(), args[end:]...)
	log, err := newLogger(opts.logLevel, opts.logFormat, stderr)
	if err != nil {
		return nil, nil, err
	}
	opts.log = log
	return opts, rest, nil
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// configPath picks the manifest: the flag, then $ENVWRAP_CONFIG, then
// ./envwrap.yaml.
func (o *options) configPath() string {
	if o.config != "" {
		return o.config
	}
	if p := os.Getenv("ENVWRAP_CONFIG"); p != "" {
		return p
	}
	return "envwrap.yaml"
}

// exitCode maps an error from loading, fetching, injecting or starting to
// envwrap's exit status. This is the only place that does so.
func exitCode(err error) int {
	var start *supervise.StartError
	var fetch *fetchError
	var inj *injectError
	var rnd *renderError
	switch {
	case errors.As(err, &inj):
		return exitEnv
	case errors.As(err, &start):
		return start.Code
	case manifest.IsManifestError(err):
		return exitManifest
	case errors.As(err, &fetch):
		return exitFetch
	case errors.As(err, &rnd):
		return exitRender
	case errors.As(err, new(*manifest.ReadError)):
		return exitNoConfig
	}
	return exitInternal
}
