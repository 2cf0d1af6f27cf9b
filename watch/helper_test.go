package watch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/render"
	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/file"
	"github.com/envwrap/envwrap/supervise"
)

// The test binary is also the supervised child, as os/exec's own tests
// do: with childDir set it runs helperChild instead of the tests.
const childDir = "WATCH_TEST_CHILD_DIR"

// patience bounds every wait for something that should take milliseconds;
// it is generous for -race on a busy machine.
const patience = 10 * time.Second

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDir); dir != "" {
		os.Exit(helperChild(dir))
	}
	os.Exit(m.Run())
}

// helperChild appends to dir/events "start PID VALUE" (VALUE is $SECRET),
// "hup PID" for each SIGHUP and "exit PID" on SIGTERM, after which it
// exits 0. It gives up if its parent goes away, so that a failed test
// leaves nothing running.
func helperChild(dir string) int {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM)
	pid, parent := os.Getpid(), os.Getppid()
	record(dir, fmt.Sprintf("start %d %s", pid, os.Getenv("SECRET")))
	orphaned := time.NewTicker(50 * time.Millisecond)
	defer orphaned.Stop()
	life := time.After(time.Minute)
	for {
		select {
		case s := <-sigs:
			if s == syscall.SIGTERM {
				record(dir, fmt.Sprintf("exit %d", pid))
				return 0
			}
			record(dir, fmt.Sprintf("hup %d", pid))
		case <-orphaned.C:
			if os.Getppid() != parent {
				return 3
			}
		case <-life:
			return 3
		}
	}
}

// record appends one line with a single write, which O_APPEND keeps whole.
func record(dir, line string) {
	f, err := os.OpenFile(filepath.Join(dir, "events"),
		os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		panic(err)
	}
}

// childEvent is one line of the helper child's events file.
type childEvent struct {
	what  string // start, hup or exit
	pid   int
	value string // for start: $SECRET
}

func readChildEvents(t *testing.T, dir string) []childEvent {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "events"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []childEvent
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		e := childEvent{what: f[0]}
		e.pid, _ = strconv.Atoi(f[1])
		if len(f) > 2 {
			e.value = f[2]
		}
		out = append(out, e)
	}
	return out
}

// logBuffer collects a Watcher's log for assertions; Run writes to it
// from its own goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// rig is a Watcher over files in a temporary directory, set up the way
// envwrap sets one up: the manifest parsed, every secret fetched by the
// real file backend, every template written once.
type rig struct {
	t        *testing.T
	dir      string
	m        *manifest.Manifest
	cfg      Config
	log      *logBuffer
	outcomes chan Outcome
}

// newRig writes files (name → content) and the manifest into a new
// directory and prepares, without starting, a Watcher over them.
func newRig(t *testing.T, yaml string, files map[string]string) *rig {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		writeNow(t, filepath.Join(dir, name), content)
	}
	path := filepath.Join(dir, "envwrap.yaml")
	writeNow(t, path, yaml)
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, dir: dir, m: m, log: &logBuffer{}, outcomes: make(chan Outcome, 16)}
	sources := map[string]source.Source{source.SchemeFile: file.New(dir)}
	inherited := append(os.Environ(), childDir+"="+dir, "GORACE=atexit_sleep_ms=0")
	r.cfg = Config{
		Manifest:  m,
		Sources:   sources,
		Files:     r.templates(),
		Inherited: inherited,
		Initial:   r.initial(sources, inherited),
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(r.log, t.Output()),
			&slog.HandlerOptions{Level: slog.LevelDebug})),
		OnApply: func(o Outcome) { r.outcomes <- o },
	}
	for _, f := range r.cfg.Files {
		if _, err := f.Template.Write(r.cfg.Initial.Data); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (r *rig) templates() []File {
	var files []File
	for _, tm := range r.m.Templates {
		tmpl, err := render.Parse(render.Spec{
			Name: tm.Name(), Source: tm.Source, Contents: tm.Contents,
			Destination: tm.Destination, Mode: tm.Mode, UID: tm.UID, GID: tm.GID,
			CreateDirs: tm.CreateDirs, MissingKey: tm.MissingKey,
		})
		if err != nil {
			r.t.Fatal(err)
		}
		files = append(files, File{Template: tmpl, OnChange: tm.OnChange})
	}
	return files
}

// initial fetches every secret as envwrap does before the child starts.
func (r *rig) initial(sources map[string]source.Source, inherited []string) *State {
	refs := make([]source.Ref, len(r.m.Secrets))
	for i, s := range r.m.Secrets {
		refs[i] = s.From
	}
	res := (&source.Resolver{Sources: sources}).Resolve(context.Background(), refs)
	secrets := make(map[string]source.Secret)
	for key, rs := range res {
		if rs.Err != nil {
			r.t.Fatal(rs.Err)
		}
		secrets[key] = rs.Secret
	}
	state, err := Build(r.m, secrets, inherited)
	if err != nil {
		r.t.Fatal(err)
	}
	return state
}

// run starts the Watcher, stopping it when the test ends.
func (r *rig) run() {
	w := New(r.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Error(err)
		}
	})
}

// superviseHelper starts a real supervisor over the helper child with the
// initial environment and makes it the rig's Child.
func (r *rig) superviseHelper() *supervise.Supervisor {
	exe, err := os.Executable()
	if err != nil {
		r.t.Fatal(err)
	}
	sup := supervise.New(supervise.Config{
		Argv: []string{exe}, Env: r.cfg.Initial.Env, StopTimeout: 5 * time.Second,
		Logger: r.cfg.Logger,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := sup.Run(ctx); err != nil {
			r.t.Error(err)
		}
	}()
	r.t.Cleanup(func() {
		cancel()
		<-done
	})
	waitFor(r.t, "the child to start", func() bool {
		return len(readChildEvents(r.t, r.dir)) > 0
	})
	r.cfg.Child = sup
	return sup
}

// next waits for the Watcher's next action.
func (r *rig) next() Outcome {
	r.t.Helper()
	select {
	case o := <-r.outcomes:
		return o
	case <-time.After(patience):
		r.t.Fatal("no change was applied")
		return Outcome{}
	}
}

// quiet checks that no action comes within d.
func (r *rig) quiet(d time.Duration) {
	r.t.Helper()
	select {
	case o := <-r.outcomes:
		r.t.Fatalf("unexpected action: %+v", o)
	case <-time.After(d):
	}
}

func (r *rig) path(name string) string { return filepath.Join(r.dir, name) }

func (r *rig) read(name string) string {
	r.t.Helper()
	b, err := os.ReadFile(r.path(name))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// replace writes a file the way editors and Kubernetes do: a new file
// renamed over the old one, so that no reader sees it half written.
func (r *rig) replace(name, content string) {
	r.t.Helper()
	tmp := r.path("." + name + ".tmp")
	writeNow(r.t, tmp, content)
	if err := os.Rename(tmp, r.path(name)); err != nil {
		r.t.Fatal(err)
	}
}

// waitLog waits until the log holds n lines containing all of parts.
func (r *rig) waitLog(n int, parts ...string) {
	r.t.Helper()
	waitFor(r.t, fmt.Sprintf("%d log lines with %q", n, parts), func() bool {
		return countLines(r.log.String(), parts...) >= n
	})
}

func countLines(log string, parts ...string) int {
	n := 0
	for line := range strings.Lines(log) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

func writeNow(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newManifest is a manifest with nothing in it, for Watchers that are
// only asked to decide.
func newManifest(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Parse("envwrap.yaml", []byte("version: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
