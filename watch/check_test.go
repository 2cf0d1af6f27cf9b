package watch

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/sivchari/kumo"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/awssm"
)

// A file rewritten with the same bytes has a new version (its mtime) but
// is no change; new bytes are, and the child's state is untouched until
// the change is applied.
func TestCheckFileSameBytesIsNoChange(t *testing.T) {
	r := newRig(t, "version: 1\nsecrets:\n  - {env: SECRET, from: \"file://s.txt\"}\n",
		map[string]string{"s.txt": "one"})
	w := New(r.cfg)
	tg := w.targets["file://s.txt"]
	if tg == nil {
		t.Fatalf("no target for the file; targets: %v", w.targets)
	}
	before := tg.version

	writeNow(t, r.path("s.txt"), "one")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(r.path("s.txt"), later, later); err != nil {
		t.Fatal(err)
	}
	if changed := w.check(context.Background(), []*target{tg}); len(changed) != 0 {
		t.Errorf("same bytes under a new version counted as a change: %v", refsOf(changed))
	}
	if tg.version == before {
		t.Errorf("the version seen stayed %s after the file changed its mtime", before)
	}

	writeNow(t, r.path("s.txt"), "two")
	changed := w.check(context.Background(), []*target{tg})
	sec, ok := changed["file://s.txt"]
	if len(changed) != 1 || !ok || sec.Value.Reveal() != "two" {
		t.Fatalf("new bytes: changed = %v", refsOf(changed))
	}
	if got := w.state.Secrets["file://s.txt"].Value.Reveal(); got != "one" {
		t.Errorf("check changed the applied state to %q", got)
	}
}

// countingSM passes every call to the real client in front of the
// emulator and counts them. It fakes nothing.
type countingSM struct {
	awssm.API
	describe, get atomic.Int32
}

func (c *countingSM) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput,
	opts ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	c.describe.Add(1)
	return c.API.DescribeSecret(ctx, in, opts...)
}

func (c *countingSM) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput,
	opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	c.get.Add(1)
	return c.API.GetSecretValue(ctx, in, opts...)
}

// Secrets Manager is asked for the version first; the value is fetched
// only when the version moved, and a new version holding the same bytes
// is no change.
func TestCheckSecretsManagerVersionFirst(t *testing.T) {
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	client := secretsmanager.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	// The emulator keeps one store per process, across -count runs too.
	name := "watch/check-version-" + strings.ToLower(rand.Text()[:10])
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String("v1"),
	}); err != nil {
		t.Fatal(err)
	}
	put := func(value string) {
		t.Helper()
		if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(name), SecretString: aws.String(value),
		}); err != nil {
			t.Fatal(err)
		}
	}

	api := &countingSM{API: client}
	src := awssm.New(api)
	ref, err := source.Parse("aws-sm://" + name)
	if err != nil {
		t.Fatal(err)
	}
	first := src.Fetch(ctx, []source.Ref{ref})[0]
	if first.Err != nil {
		t.Fatal(first.Err)
	}
	m, err := manifest.Parse("envwrap.yaml", []byte("version: 1\nsecrets:\n"+
		"  - {env: SECRET, from: \"aws-sm://"+name+"\", refresh: 1m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	state, err := Build(m, map[string]source.Secret{ref.Target(): first.Secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := New(Config{Manifest: m, Initial: state,
		Sources: map[string]source.Source{source.SchemeSecretsManager: src}})
	tg := w.targets[ref.Target()]
	api.get.Store(0)

	steps := []struct {
		name           string
		put            string // "" for no change
		describe, get  int32
		changed        bool
		versionChanged bool
	}{
		{"nothing changed", "", 1, 0, false, false},
		{"a new version with the same value", "v1", 2, 1, false, true},
		{"nothing changed since", "", 3, 1, false, false},
		{"a new value", "v2", 4, 2, true, true},
	}
	for _, s := range steps {
		if s.put != "" {
			put(s.put)
		}
		before := tg.version
		changed := w.check(ctx, []*target{tg})
		if got, want := len(changed) == 1, s.changed; got != want || len(changed) > 1 {
			t.Errorf("%s: changed %v", s.name, refsOf(changed))
		}
		if d, g := api.describe.Load(), api.get.Load(); d != s.describe || g != s.get {
			t.Errorf("%s: %d DescribeSecret and %d GetSecretValue calls so far, want %d and %d",
				s.name, d, g, s.describe, s.get)
		}
		if (tg.version != before) != s.versionChanged {
			t.Errorf("%s: version seen went from %s to %s", s.name, before, tg.version)
		}
		if s.changed && changed[ref.Target()].Value.Reveal() != s.put {
			t.Errorf("%s: the changed secret does not hold the new value", s.name)
		}
	}
}
