package ssm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/sivchari/kumo"

	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/ssm"
)

// recorder counts the calls that reach the wire by their X-Amz-Target
// operation and keeps the MaxResults each GetParametersByPath asked for.
type recorder struct {
	next       http.RoundTripper
	mu         sync.Mutex
	calls      map[string]int
	maxResults []float64
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "AmazonSSM.")
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	_ = json.Unmarshal(body, &fields)

	r.mu.Lock()
	r.calls[op]++
	if op == "GetParametersByPath" {
		mr, _ := fields["MaxResults"].(float64)
		r.maxResults = append(r.maxResults, mr)
	}
	r.mu.Unlock()

	clone := req.Clone(req.Context())
	clone.Body = io.NopCloser(strings.NewReader(string(body)))
	return r.next.RoundTrip(clone)
}

func (r *recorder) count(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[op]
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = make(map[string]int)
	r.maxResults = nil
}

// emulator is a kumo server on loopback, a client aimed at it and the
// recorder between them.
type emulator struct {
	srv    *kumo.Server
	client *awsssm.Client
	rec    *recorder
}

// start runs kumo in the test process. Credentials, region and endpoint
// are all explicit so that nothing reaches a real AWS host or the
// instance metadata address; the SDK's retries are off, as in awscfg.
func start(t *testing.T) emulator {
	t.Helper()
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	rec := &recorder{next: &http.Transport{}, calls: make(map[string]int)}
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:  &http.Client{Transport: rec},
	}
	client := awsssm.NewFromConfig(cfg, func(o *awsssm.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})
	return emulator{srv: srv, client: client, rec: rec}
}

// put stores a parameter. kumo keeps one store per process, so every
// test uses names of its own.
func (e emulator) put(t *testing.T, name, value string, typ types.ParameterType) {
	t.Helper()
	_, err := e.client.PutParameter(context.Background(), &awsssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: typ,
		Overwrite: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("seeding %s: %v", name, err)
	}
}

func parse(t *testing.T, raw string) source.Ref {
	t.Helper()
	ref, err := source.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func fetch(t *testing.T, src *ssm.Source, refs ...source.Ref) []source.Result {
	t.Helper()
	res := src.Fetch(context.Background(), refs)
	if len(res) != len(refs) {
		t.Fatalf("got %d results for %d references", len(res), len(refs))
	}
	return res
}

func mustSecret(t *testing.T, res source.Result) source.Secret {
	t.Helper()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	return res.Secret
}

// seedTree fills /pages/app/ with 27 direct children, two nested ones
// and neighbours that a path read must never pick up.
func seedTree(t *testing.T, e emulator) map[string]string {
	want := make(map[string]string)
	for i := 1; i <= 27; i++ {
		key := fmt.Sprintf("p%02d", i)
		want[key] = fmt.Sprintf("value-%02d", i)
		e.put(t, "/pages/app/"+key, want[key], types.ParameterTypeString)
	}
	e.put(t, "/pages/app/db/host", "db.internal", types.ParameterTypeString)
	e.put(t, "/pages/app/db/pass", "s3cr3t", types.ParameterTypeSecureString)
	e.put(t, "/pages/app2/x", "sibling", types.ParameterTypeString)
	e.put(t, "/pages/apple", "neighbour", types.ParameterTypeString)
	return want
}

func checkTree(t *testing.T, got source.Secret, want map[string]string) {
	t.Helper()
	if keys := slices.Sorted(maps.Keys(got.Tree)); !slices.Equal(
		keys, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("keys %v, want %v", keys, slices.Sorted(maps.Keys(want)))
	}
	for k, v := range want {
		if got.Tree[k].Reveal() != v {
			t.Errorf("%s = %q, want %q", k, got.Tree[k].Reveal(), v)
		}
	}
}

func TestPathEveryPage(t *testing.T) {
	e := start(t)
	want := seedTree(t, e)
	e.rec.reset()

	sec := mustSecret(t, fetch(t, ssm.New(e.client), parse(t, "ssm:///pages/app/"))[0])
	checkTree(t, sec, want)
	// 27 names at 10 a page: three calls, each asking for the most.
	if n := e.rec.count("GetParametersByPath"); n != 3 {
		t.Errorf("%d GetParametersByPath calls, want 3", n)
	}
	if !slices.Equal(e.rec.maxResults, []float64{10, 10, 10}) {
		t.Errorf("MaxResults sent: %v, want 10 each", e.rec.maxResults)
	}
	if len(sec.Version) != 16 {
		t.Errorf("version %q, want a 16-digit digest", sec.Version)
	}
}

func TestPathRecursive(t *testing.T) {
	e := start(t)
	want := seedTree(t, e)
	want["db/host"] = "db.internal"
	want["db/pass"] = "s3cr3t" // a SecureString, decrypted
	e.rec.reset()

	ref := parse(t, "ssm:///pages/app/")
	ref.Recursive = true
	sec := mustSecret(t, fetch(t, ssm.New(e.client), ref)[0])
	checkTree(t, sec, want)
	if n := e.rec.count("GetParametersByPath"); n != 3 {
		t.Errorf("%d GetParametersByPath calls for 29 parameters, want 3", n)
	}
}

func TestPathVersionFollowsChanges(t *testing.T) {
	e := start(t)
	e.put(t, "/digest/a", "1", types.ParameterTypeString)
	src := ssm.New(e.client)
	ref := parse(t, "ssm:///digest/")
	before := mustSecret(t, fetch(t, src, ref)[0]).Version
	again := mustSecret(t, fetch(t, src, ref)[0]).Version
	e.put(t, "/digest/a", "2", types.ParameterTypeString)
	after := mustSecret(t, fetch(t, src, ref)[0]).Version
	if before != again || before == after {
		t.Errorf("digests %s, %s, %s: want equal, equal, different", before, again, after)
	}
}

// TestPathEmpty documents that a path with nothing under it is an empty
// tree, not an error: whether that is acceptable is the manifest's call.
func TestPathEmpty(t *testing.T) {
	e := start(t)
	sec := mustSecret(t, fetch(t, ssm.New(e.client), parse(t, "ssm:///empty/nothing/"))[0])
	if sec.Tree == nil || len(sec.Tree) != 0 {
		t.Errorf("tree %v, want empty and not nil", sec.Tree)
	}
}

func TestNamesTenToACall(t *testing.T) {
	e := start(t)
	var refs []source.Ref
	for i := range 25 {
		name := fmt.Sprintf("/batch/n%02d", i)
		e.put(t, name, fmt.Sprintf("v%02d", i), types.ParameterTypeString)
		refs = append(refs, parse(t, "ssm://"+name))
	}
	e.rec.reset()

	src := ssm.New(e.client)
	var sizes []int
	for _, b := range src.Batches(refs) {
		sizes = append(sizes, len(b))
	}
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Errorf("batch sizes %v, want [10 10 5]", sizes)
	}
	results := (&source.Resolver{Sources: map[string]source.Source{"ssm": src}}).
		Resolve(context.Background(), refs)
	for i, ref := range refs {
		sec := mustSecret(t, results[ref.Target()])
		if want := fmt.Sprintf("v%02d", i); sec.Value.Reveal() != want || sec.Version != "1" {
			t.Errorf("%s = %q version %s, want %q version 1",
				ref, sec.Value.Reveal(), sec.Version, want)
		}
	}
	if n := e.rec.count("GetParameters"); n != 3 {
		t.Errorf("%d GetParameters calls for 25 names, want 3", n)
	}
}

func TestNameTypes(t *testing.T) {
	e := start(t)
	e.put(t, "/types/secure", "s3cr3t ✓", types.ParameterTypeSecureString)
	e.put(t, "/types/list", "a,b,c", types.ParameterTypeStringList)
	e.put(t, "/types/plain", "first", types.ParameterTypeString)
	e.put(t, "/types/plain", "$HOME \"q\" 'q'\n", types.ParameterTypeString)

	res := fetch(t, ssm.New(e.client), parse(t, "ssm:///types/secure"),
		parse(t, "ssm:///types/list"), parse(t, "ssm:///types/plain"))
	for i, want := range [][2]string{
		{"s3cr3t ✓", "1"}, {"a,b,c", "1"}, {"$HOME \"q\" 'q'\n", "2"},
	} {
		sec := mustSecret(t, res[i])
		if sec.Value.Reveal() != want[0] || sec.Version != want[1] || sec.Binary {
			t.Errorf("%s = %q version %s, want %q version %s",
				sec.Ref, sec.Value.Reveal(), sec.Version, want[0], want[1])
		}
	}
	if n := e.rec.count("GetParameters"); n != 1 {
		t.Errorf("%d GetParameters calls, want 1", n)
	}
}

func TestMissingNameFailsAlone(t *testing.T) {
	e := start(t)
	e.put(t, "/partial/a", "A", types.ParameterTypeString)
	e.put(t, "/partial/b", "B", types.ParameterTypeString)
	e.rec.reset()

	// Through the resolver: one batch, one call, and errors that name
	// their reference.
	refs := []source.Ref{parse(t, "ssm:///partial/a"), parse(t, "ssm:///partial/missing"),
		parse(t, "ssm:///partial/b")}
	results := (&source.Resolver{Sources: map[string]source.Source{"ssm": ssm.New(e.client)}}).
		Resolve(context.Background(), refs)
	a, b := mustSecret(t, results["ssm:///partial/a"]), mustSecret(t, results["ssm:///partial/b"])
	if a.Value.Reveal() != "A" || b.Value.Reveal() != "B" {
		t.Errorf("got %q and %q, want A and B", a.Value.Reveal(), b.Value.Reveal())
	}
	err := results["ssm:///partial/missing"].Err
	if err == nil || !source.IsPermanent(err) || !errors.Is(err, source.ErrNotFound) {
		t.Fatalf("want a permanent not-found error, got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "ssm:///partial/missing: ssm: not found") {
		t.Errorf("message %q does not name the reference", err)
	}
	if n := e.rec.count("GetParameters"); n != 1 {
		t.Errorf("%d GetParameters calls, want 1", n)
	}
}

// TestSelectorVersion asserts what AWS does with name:version. kumo
// v0.33.1 has no selectors: it looks the whole string up as a name and
// lists it in InvalidParameters, so the test skips there.
func TestSelectorVersion(t *testing.T) {
	e := start(t)
	e.put(t, "/selector/v", "one", types.ParameterTypeString)
	e.put(t, "/selector/v", "two", types.ParameterTypeString)

	res := fetch(t, ssm.New(e.client), parse(t, "ssm:///selector/v:1"),
		parse(t, "ssm:///selector/v"))
	if errors.Is(res[0].Err, source.ErrNotFound) {
		t.Skipf("kumo v0.33.1 lacks name:version selectors: %v", res[0].Err)
	}
	old, cur := mustSecret(t, res[0]), mustSecret(t, res[1])
	if old.Value.Reveal() != "one" || old.Version != "1" ||
		cur.Value.Reveal() != "two" || cur.Version != "2" {
		t.Errorf("got %q@%s and %q@%s, want one@1 and two@2",
			old.Value.Reveal(), old.Version, cur.Value.Reveal(), cur.Version)
	}
}

// TestSelectorLabel asserts what AWS does with name:label. kumo v0.33.1
// has no LabelParameterVersion, so the test skips there.
func TestSelectorLabel(t *testing.T) {
	e := start(t)
	e.put(t, "/selector/l", "one", types.ParameterTypeString)
	e.put(t, "/selector/l", "two", types.ParameterTypeString)
	_, err := e.client.LabelParameterVersion(context.Background(),
		&awsssm.LabelParameterVersionInput{
			Name: aws.String("/selector/l"), ParameterVersion: aws.Int64(1),
			Labels: []string{"stable"},
		})
	if err != nil {
		t.Skipf("kumo v0.33.1 lacks version labels: %v", err)
	}
	sec := mustSecret(t, fetch(t, ssm.New(e.client), parse(t, "ssm:///selector/l:stable"))[0])
	if sec.Value.Reveal() != "one" || sec.Version != "1" {
		t.Errorf("got %q@%s, want one@1", sec.Value.Reveal(), sec.Version)
	}
}

func TestServerGoneIsTransient(t *testing.T) {
	e := start(t)
	e.srv.Close()
	res := fetch(t, ssm.New(e.client), parse(t, "ssm:///gone/name"), parse(t, "ssm:///gone/"))
	for _, r := range res {
		if r.Err == nil || source.IsPermanent(r.Err) || errors.Is(r.Err, source.ErrNotFound) {
			t.Errorf("want a transient error, got %v", r.Err)
		}
	}
	if !strings.HasPrefix(res[0].Err.Error(), "ssm: operation error SSM: GetParameters") {
		t.Errorf("message %q", res[0].Err)
	}
}
