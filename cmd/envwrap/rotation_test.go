package main

// End-to-end rotation tests: envwrap runs as a process of its own over the
// test binary as its child, against the AWS emulator or real files, with
// short intervals. The child records every start (PID, time, values), the
// SIGHUPs it gets and its exit, so that the tests can tell what envwrap
// did and that no two children were ever alive at once.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/sivchari/kumo"
)

const (
	// refresh is the manifests' defaults.refresh: each secret is checked
	// every 300ms ±10%.
	refresh = 300 * time.Millisecond
	// debounce is the watcher's default, which the manifest cannot change.
	debounce = time.Second
	// actSlack covers what follows the debounce: stopping the old child,
	// reaping it and starting the new one, all under -race.
	actSlack = 2 * time.Second
	// checkSlack covers one version check and value fetch round trip.
	checkSlack = 250 * time.Millisecond
	// patience bounds waits for what should take a few seconds at most.
	patience = 20 * time.Second
)

// noticeBound is the latest a change can be seen after it was made: one
// interval with its jitter, plus the check itself.
var noticeBound = refresh + refresh/10 + checkSlack

// rotation is the manifest text shared by the AWS tests.
func rotation(endpoint, secrets string) string {
	return `version: 1
aws: {region: us-east-1, endpoint: "` + endpoint + `"}
defaults: {refresh: ` + refresh.String() + `}
process: {min_restart_interval: 100ms, stop_timeout: 5s}
secrets:
` + secrets
}

// unique makes a name no other test, nor another run of this one, uses:
// the emulator keeps one store for the whole test process.
func unique(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:10])
}

// TestRotationSecretsManager: a PutSecretValue is noticed within one
// interval plus jitter, and the child is restarted with the new value,
// twice in a row.
func TestRotationSecretsManager(t *testing.T) {
	url, sm, _ := emulator(t)
	name := unique("rot/sm")
	putSecret(t, sm, name, canary+"-v1")
	dir := t.TempDir()
	writeManifest(t, dir, rotation(url, `  - {env: ROT_A, from: "aws-sm://`+name+`"}`))
	e := startEnvwrap(t, dir, "ROT_A", "")
	e.waitStarts(1)

	for i, v := range []string{canary + "-v2", canary + "-v3"} {
		put := time.Now()
		updateSecret(t, sm, name, v)
		started := e.waitStarts(i + 2)
		if got := started.Values["ROT_A"]; got != v {
			t.Fatalf("child %d started with %q, want %q", i+2, got, v)
		}
		e.assertNoticed("aws-sm://"+name, i+1, put)
		took := started.at().Sub(put)
		t.Logf("change %d reached a new child after %v", i+1, took)
		if took > noticeBound+debounce+actSlack {
			t.Errorf("change %d reached a new child after %v", i+1, took)
		}
	}
	e.stop()
	e.assertStarts(3)
}

// TestRotationSSM: a PutParameter overwrite restarts the child with the
// new value.
func TestRotationSSM(t *testing.T) {
	url, _, ps := emulator(t)
	name := "/" + unique("rot/ssm")
	putParam(t, ps, name, canary+"-v1", ssmtypes.ParameterTypeSecureString)
	dir := t.TempDir()
	writeManifest(t, dir, rotation(url, `  - {env: ROT_P, from: "ssm://`+name+`"}`))
	e := startEnvwrap(t, dir, "ROT_P", "")
	e.waitStarts(1)

	put := time.Now()
	putParam(t, ps, name, canary+"-v2", ssmtypes.ParameterTypeSecureString)
	started := e.waitStarts(2)
	if got := started.Values["ROT_P"]; got != canary+"-v2" {
		t.Fatalf("the new child has %q", got)
	}
	e.assertNoticed("ssm://"+name, 1, put)
	took := started.at().Sub(put)
	t.Logf("the change reached a new child after %v", took)
	if took > noticeBound+debounce+actSlack {
		t.Errorf("the change reached a new child after %v", took)
	}
	e.stop()
	e.assertStarts(2)
}

// fileManifest renders the file secret at ref into out/app.conf, whose
// on_change is SIGHUP.
func fileManifest(ref string) string {
	return `version: 1
secrets:
  - {from: "` + ref + `", as: conf}
templates:
  - contents: "conf={{ .conf }}"
    destination: out/app.conf
    create_dirs: true
    on_change: "signal:SIGHUP"
`
}

// TestRotationFileSignal: a file rewritten in place reaches the child as
// exactly one SIGHUP per change, with the same PID, and the child reads
// the new rendering.
func TestRotationFileSignal(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(data, "conf.txt")
	writeFile(t, conf, canary+"-1")
	writeManifest(t, dir, fileManifest("file://data/conf.txt"))
	e := startEnvwrap(t, dir, "", filepath.Join(dir, "out/app.conf"))
	if got := e.waitStarts(1).File; got != "conf="+canary+"-1" {
		t.Fatalf("the child read %q at start", got)
	}

	for i := 2; i <= 4; i++ {
		v := fmt.Sprintf("%s-%d", canary, i)
		writeFile(t, conf, v) // in place: truncated, then written
		e.waitHUPs(i - 1)
		if got := e.hups()[i-2].File; got != "conf="+v {
			t.Fatalf("after change %d the child read %q", i-1, got)
		}
	}
	e.assertNoMoreHUPs(3)
	e.stop()
	e.assertStarts(1)
	if n := countLines(e.stderr(), "signalled after a change", "signal=SIGHUP"); n != 3 {
		t.Errorf("envwrap logged %d SIGHUPs, want 3", n)
	}
}

// TestRotationKubernetesVolume: the secret-volume layout Kubernetes keeps
// current, where a change is a new timestamped directory and a rename of
// the ..data symlink, also gives one SIGHUP per change.
func TestRotationKubernetesVolume(t *testing.T) {
	dir := t.TempDir()
	vol := filepath.Join(dir, "vol")
	if err := os.Mkdir(vol, 0o700); err != nil {
		t.Fatal(err)
	}
	kubeUpdate(t, vol, 1, canary+"-1")
	if err := os.Symlink("..data/key", filepath.Join(vol, "key")); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, fileManifest("file://vol/key"))
	e := startEnvwrap(t, dir, "", filepath.Join(dir, "out/app.conf"))
	if got := e.waitStarts(1).File; got != "conf="+canary+"-1" {
		t.Fatalf("the child read %q at start", got)
	}

	for i := 2; i <= 3; i++ {
		v := fmt.Sprintf("%s-%d", canary, i)
		kubeUpdate(t, vol, i, v)
		e.waitHUPs(i - 1)
		if got := e.hups()[i-2].File; got != "conf="+v {
			t.Fatalf("after swap %d the child read %q", i-1, got)
		}
	}
	e.assertNoMoreHUPs(2)
	e.stop()
	e.assertStarts(1)
}

// kubeUpdate does what the kubelet does to a secret volume: write the
// new files into a fresh directory, point ..data_tmp at it, rename that
// over ..data in one step, and remove the old directory.
func kubeUpdate(t *testing.T, vol string, gen int, value string) {
	t.Helper()
	ts := func(gen int) string { return fmt.Sprintf("..2026_01_01_00_00_%02d.%09d", gen, gen) }
	if err := os.Mkdir(filepath.Join(vol, ts(gen)), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(vol, ts(gen), "key"), value)
	tmp := filepath.Join(vol, "..data_tmp")
	if err := os.Symlink(ts(gen), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(vol, "..data")); err != nil {
		t.Fatal(err)
	}
	if gen > 1 {
		if err := os.RemoveAll(filepath.Join(vol, ts(gen-1))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRotationBurstRestartsOnce: three changes within a moment, to two
// secrets in two services, give exactly one restart, with every new value.
func TestRotationBurstRestartsOnce(t *testing.T) {
	p := newCountingProxy(t)
	_, sm, ps := emulatorBehind(t, p)
	sname, pname := unique("rot/burst"), "/"+unique("rot/burst")
	putSecret(t, sm, sname, canary+"-a1")
	putParam(t, ps, pname, canary+"-b1", ssmtypes.ParameterTypeString)
	dir := t.TempDir()
	writeManifest(t, dir, rotation(p.url, `  - {env: ROT_A, from: "aws-sm://`+sname+`"}
  - {env: ROT_B, from: "ssm://`+pname+`"}
`))
	e := startEnvwrap(t, dir, "ROT_A,ROT_B", "")
	e.waitStarts(1)

	updateSecret(t, sm, sname, canary+"-a2")
	updateSecret(t, sm, sname, canary+"-a3")
	putParam(t, ps, pname, canary+"-b2", ssmtypes.ParameterTypeString)
	started := e.waitStarts(2)
	if a, b := started.Values["ROT_A"], started.Values["ROT_B"]; a != canary+"-a3" ||
		b != canary+"-b2" {
		t.Errorf("the new child has ROT_A=%q ROT_B=%q; want the last values", a, b)
	}
	// A second restart would come within the debounce after a change is
	// seen; give the watcher that long, and several more checks.
	p.waitCalls(t, "secretsmanager.DescribeSecret", p.count("secretsmanager.DescribeSecret")+6)
	e.stop()
	e.assertStarts(2)
}

// TestRotationQuietRun: with nothing changing, several intervals cost one
// DescribeSecret each and no value fetch beyond the first, and the child
// is left alone.
func TestRotationQuietRun(t *testing.T) {
	p := newCountingProxy(t)
	_, sm, _ := emulatorBehind(t, p)
	name := unique("rot/quiet")
	putSecret(t, sm, name, canary)
	dir := t.TempDir()
	writeManifest(t, dir, rotation(p.url, `  - {env: ROT_A, from: "aws-sm://`+name+`"}`))
	began := time.Now()
	e := startEnvwrap(t, dir, "ROT_A", "")
	e.waitStarts(1)

	const checks = 10
	p.waitCalls(t, "secretsmanager.DescribeSecret", checks)
	e.stop()
	elapsed := time.Since(began)
	calls := p.snapshot()
	if got := calls["secretsmanager.GetSecretValue"]; got != 1 {
		t.Errorf("%d GetSecretValue calls, want 1 (the first fetch)", got)
	}
	// Checks are at least 0.9 intervals apart.
	most := int(elapsed/(refresh-refresh/10)) + 1
	if got := calls["secretsmanager.DescribeSecret"]; got < checks || got > most {
		t.Errorf("%d DescribeSecret calls in %v; want %d to %d", got, elapsed, checks, most)
	}
	if len(calls) != 2 {
		t.Errorf("calls other than GetSecretValue and DescribeSecret: %v", calls)
	}
	e.assertStarts(1)
	if strings.Contains(e.stderr(), "secret changed") {
		t.Error("a change was reported")
	}
}

// TestRotationRefreshFailure: with the emulator stopped, checks fail and
// are logged naming the reference while the child keeps running on its
// old value; once an emulator is back, the next change is applied.
func TestRotationRefreshFailure(t *testing.T) {
	p := newCountingProxy(t)
	first, sm, _ := emulatorBehind(t, p)
	name := unique("rot/fail")
	ref := "aws-sm://" + name
	putSecret(t, sm, name, canary+"-v1")
	dir := t.TempDir()
	writeManifest(t, dir, rotation(p.url, `  - {env: ROT_A, from: "`+ref+`"}`))
	e := startEnvwrap(t, dir, "ROT_A", "")
	pid := e.waitStarts(1).PID
	p.waitCalls(t, "secretsmanager.DescribeSecret", 1)

	first.Close() // the emulator is gone; the proxy answers 502
	failed := func(n int) func() bool {
		return func() bool {
			return countLines(e.stderr(), "refresh failed", "ref="+ref) >= n
		}
	}
	waitUntil(t, "two failed refreshes to be logged", failed(2))
	if !strings.Contains(e.stderr(), "next_try=") {
		t.Error("the failure log does not say when the next try is")
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the child is gone during the outage: %v", err)
	}
	e.assertStarts(1)

	// The emulator keeps one store per process: a new server has the secret.
	second := kumo.NewServer()
	t.Cleanup(second.Close)
	p.setUpstream(t, second.URL)
	sm, _ = clients(second.URL)
	put := time.Now()
	updateSecret(t, sm, name, canary+"-v2")
	started := e.waitStarts(2)
	if got := started.Values["ROT_A"]; got != canary+"-v2" {
		t.Fatalf("the new child has %q", got)
	}
	e.assertNoticed(ref, 1, put)
	p.waitCalls(t, "secretsmanager.DescribeSecret", p.count("secretsmanager.DescribeSecret")+6)
	e.stop()
	e.assertStarts(2)
}

// --- the child ---

// childEvent is one line the rotate child appends to its events file.
type childEvent struct {
	Ev     string            `json:"ev"` // start, hup, exit or overlap
	PID    int               `json:"pid"`
	NS     int64             `json:"ns"`
	Values map[string]string `json:"values,omitempty"` // start: the variables
	File   string            `json:"file,omitempty"`   // start, hup: the file read
}

func (c childEvent) at() time.Time { return time.Unix(0, c.NS) }

// rotateChild runs until SIGTERM, recording to args[0] its start with the
// variables named in args[1] (comma-separated) and the content of the
// file args[2], each SIGHUP with the file read again, and its exit. At
// start it records "overlap" for any earlier child still alive, even as
// an unreaped zombie. It leaves if envwrap goes away, so that a failed
// test leaves nothing behind.
func rotateChild(args []string) int {
	events, names, file := args[0], args[1], args[2]
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM)
	pid, parent := os.Getpid(), os.Getppid()

	reportOverlaps(events, pid)
	start := childEvent{Ev: "start", PID: pid, NS: time.Now().UnixNano(),
		Values: map[string]string{}, File: readOrEmpty(file)}
	for name := range strings.SplitSeq(names, ",") {
		if name != "" {
			start.Values[name] = os.Getenv(name)
		}
	}
	appendEvent(events, start)

	orphaned := time.NewTicker(50 * time.Millisecond)
	defer orphaned.Stop()
	life := time.After(2 * time.Minute)
	for {
		select {
		case s := <-sigs:
			now := time.Now().UnixNano()
			if s == syscall.SIGTERM {
				appendEvent(events, childEvent{Ev: "exit", PID: pid, NS: now})
				return 0
			}
			appendEvent(events, childEvent{Ev: "hup", PID: pid, NS: now, File: readOrEmpty(file)})
		case <-orphaned.C:
			if os.Getppid() != parent {
				return 3
			}
		case <-life:
			return 3
		}
	}
}

func reportOverlaps(events string, self int) {
	evs, _ := parseEvents(events)
	for _, e := range evs {
		if e.Ev == "start" && e.PID != self && syscall.Kill(e.PID, 0) == nil {
			appendEvent(events, childEvent{Ev: "overlap", PID: e.PID})
		}
	}
}

func readOrEmpty(path string) string {
	if path == "" {
		return ""
	}
	b, _ := os.ReadFile(path)
	return string(b)
}

// appendEvent writes one line with a single write, which O_APPEND keeps
// whole beside other children's.
func appendEvent(path string, e childEvent) {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		panic(err)
	}
}

func parseEvents(path string) ([]childEvent, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []childEvent
	for line := range strings.Lines(string(data)) {
		var e childEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// --- envwrap in the background ---

// background is an envwrap process running a rotate child.
type background struct {
	t      *testing.T
	cmd    *exec.Cmd
	log    string // envwrap's stderr
	events string // the child's record
	done   chan struct{}
}

// startEnvwrap runs envwrap, logging at debug level, in dir over a rotate
// child that records the variables names and the file.
func startEnvwrap(t *testing.T, dir, names, file string) *background {
	t.Helper()
	b := &background{t: t, log: filepath.Join(dir, "envwrap.log"),
		events: filepath.Join(dir, "events.jsonl"), done: make(chan struct{})}
	stderr, err := os.Create(b.log)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	args := append([]string{"--log-level", "debug"}, childArgs("rotate", b.events, names, file)...)
	b.cmd = exec.Command(os.Args[0], args...)
	b.cmd.Dir = dir
	b.cmd.Env = testEnv(asEnvwrap)
	// A file, not a pipe: the test reads it while envwrap runs.
	b.cmd.Stdout, b.cmd.Stderr = stderr, stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = b.cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(b.kill)
	return b
}

// stop sends envwrap SIGTERM, as a container runtime would, and expects
// it to end with the child's status 0, without a secret in its log and
// with every child's lifetime apart from the others'.
func (b *background) stop() {
	b.t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.t.Fatal(err)
	}
	select {
	case <-b.done:
	case <-time.After(patience):
		b.t.Fatalf("envwrap did not stop; log:\n%s", b.stderr())
	}
	if code := b.cmd.ProcessState.ExitCode(); code != 0 {
		b.t.Errorf("envwrap exited %d; log:\n%s", code, b.stderr())
	}
	if strings.Contains(b.stderr(), canary) {
		b.t.Error("a secret value appeared in envwrap's log")
	}
	b.assertNoOverlap()
}

// kill ends an envwrap that a failed test left running; its child
// notices and leaves.
func (b *background) kill() {
	select {
	case <-b.done:
		return
	default:
	}
	_ = b.cmd.Process.Kill()
	<-b.done
	b.t.Logf("envwrap's log:\n%s", b.stderr())
}

func (b *background) stderr() string {
	data, err := os.ReadFile(b.log)
	if err != nil {
		b.t.Fatal(err)
	}
	return string(data)
}

func (b *background) childEvents() []childEvent {
	b.t.Helper()
	evs, err := parseEvents(b.events)
	if err != nil {
		b.t.Fatal(err)
	}
	return evs
}

func (b *background) filter(what string) []childEvent {
	var out []childEvent
	for _, e := range b.childEvents() {
		if e.Ev == what {
			out = append(out, e)
		}
	}
	return out
}

func (b *background) starts() []childEvent { return b.filter("start") }
func (b *background) hups() []childEvent   { return b.filter("hup") }

// waitStarts waits for the nth start of a child and returns it.
func (b *background) waitStarts(n int) childEvent {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("child start %d", n), func() bool { return len(b.starts()) >= n })
	return b.starts()[n-1]
}

// waitHUPs waits until the child has recorded n SIGHUPs.
func (b *background) waitHUPs(n int) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("SIGHUP %d", n), func() bool { return len(b.hups()) >= n })
}

// assertNoMoreHUPs checks, for as long as a late duplicate would take to
// come (the debounce and then some), that the child got exactly n.
func (b *background) assertNoMoreHUPs(n int) {
	b.t.Helper()
	deadline := time.Now().Add(debounce + 500*time.Millisecond)
	for time.Now().Before(deadline) {
		if got := len(b.hups()); got != n {
			b.t.Fatalf("the child got %d SIGHUPs, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *background) assertStarts(n int) {
	b.t.Helper()
	if got := b.starts(); len(got) != n {
		b.t.Errorf("%d children started, want %d: %+v\nlog:\n%s", len(got), n, got, b.stderr())
	}
	if restarts := countLines(b.stderr(), "restarted the child"); restarts != n-1 {
		b.t.Errorf("envwrap logged %d restarts, want %d", restarts, n-1)
	}
}

// assertNoOverlap checks that each child was gone before the next began:
// no child saw its predecessor still alive, and the recorded lifetimes
// follow each other without overlapping.
func (b *background) assertNoOverlap() {
	b.t.Helper()
	lives := map[int][2]int64{} // pid → start, exit
	var order []int
	for _, e := range b.childEvents() {
		switch e.Ev {
		case "overlap":
			b.t.Errorf("child %d was still alive when the next one started", e.PID)
		case "start":
			order = append(order, e.PID)
			lives[e.PID] = [2]int64{e.NS, 0}
		case "exit":
			l := lives[e.PID]
			lives[e.PID] = [2]int64{l[0], e.NS}
		}
	}
	for i, pid := range order {
		l := lives[pid]
		if l[1] == 0 {
			b.t.Errorf("child %d recorded no exit", pid)
			continue
		}
		if i+1 < len(order) && lives[order[i+1]][0] <= l[1] {
			b.t.Errorf("child %d started at %d, before child %d exited at %d",
				order[i+1], lives[order[i+1]][0], pid, l[1])
		}
	}
}

// assertNoticed checks that the nth "secret changed" line for ref was
// logged within one interval, its jitter and one check after put.
func (b *background) assertNoticed(ref string, n int, put time.Time) {
	b.t.Helper()
	var times []time.Time
	for line := range strings.Lines(b.stderr()) {
		if !strings.Contains(line, `msg="secret changed"`) ||
			!strings.Contains(line, "ref="+ref+" ") {
			continue
		}
		stamp, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		at, err := time.Parse(time.RFC3339, stamp)
		if err != nil {
			b.t.Fatalf("log line without a time: %q", line)
		}
		times = append(times, at)
	}
	if len(times) < n {
		b.t.Fatalf("%d changes of %s logged, want %d", len(times), ref, n)
	}
	// The log's times have millisecond precision.
	took := times[n-1].Sub(put.Truncate(time.Millisecond))
	b.t.Logf("change %d of %s noticed after %v", n, ref, took)
	if took > noticeBound {
		b.t.Errorf("change %d of %s was noticed %v after it was made; the bound is %v",
			n, ref, took, noticeBound)
	}
}

func (b *background) waitFor(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		select {
		case <-b.done:
			if cond() {
				return
			}
			b.t.Fatalf("envwrap exited while waiting for %s; log:\n%s", what, b.stderr())
		default:
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("gave up waiting for %s; events %+v\nlog:\n%s",
				what, b.childEvents(), b.stderr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countLines(text string, parts ...string) int {
	n := 0
	for line := range strings.Lines(text) {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			n++
		}
	}
	return n
}

// --- the emulator behind a counting proxy ---

// countingProxy is a reverse proxy on 127.0.0.1 in front of the emulator.
// It counts requests by their X-Amz-Target (the API operation) and can be
// pointed at another emulator while envwrap keeps using its address.
type countingProxy struct {
	url      string
	upstream atomic.Pointer[url.URL]
	mu       sync.Mutex
	calls    map[string]int
}

func newCountingProxy(t *testing.T) *countingProxy {
	t.Helper()
	p := &countingProxy{calls: map[string]int{}}
	// Its own transport, with no proxy from the environment: requests go
	// to the emulator on 127.0.0.1 and nowhere else.
	transport := &http.Transport{Proxy: nil}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(p.upstream.Load()) },
		Transport: transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.calls[r.Header.Get("X-Amz-Target")]++
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		transport.CloseIdleConnections()
	})
	p.url = srv.URL
	return p
}

func (p *countingProxy) setUpstream(t *testing.T, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("upstream %q is not on 127.0.0.1", raw)
	}
	p.upstream.Store(u)
}

func (p *countingProxy) count(target string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[target]
}

func (p *countingProxy) snapshot() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.calls))
	for k, v := range p.calls {
		out[k] = v
	}
	return out
}

func (p *countingProxy) waitCalls(t *testing.T, target string, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d %s calls", n, target), func() bool {
		return p.count(target) >= n
	})
}

// emulatorBehind starts an emulator behind p and returns it with clients
// that talk to it directly, uncounted.
func emulatorBehind(t *testing.T, p *countingProxy) (*kumo.Server, *secretsmanager.Client,
	*ssm.Client) {
	t.Helper()
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	p.setUpstream(t, srv.URL)
	sm, ps := clients(srv.URL)
	return srv, sm, ps
}

func updateSecret(t *testing.T, sm *secretsmanager.Client, name, value string) {
	t.Helper()
	_, err := sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(name), SecretString: aws.String(value),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
