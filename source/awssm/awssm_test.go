package awssm_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/sivchari/kumo"

	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/awssm"
)

// emulator is a kumo server on loopback and a client aimed at it.
type emulator struct {
	srv    *kumo.Server
	client *secretsmanager.Client
}

// start runs kumo in the test process. Credentials, region and endpoint
// are all explicit so that nothing reaches a real AWS host or the
// instance metadata address; the SDK's retries are off, as in awscfg.
func start(t *testing.T) emulator {
	t.Helper()
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:  &http.Client{Transport: &http.Transport{}}, // no proxy
	}
	client := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})
	return emulator{srv: srv, client: client}
}

// create stores a secret and returns what CreateSecret answered. kumo
// keeps one store per process, so every test uses names of its own.
func (e emulator) create(t *testing.T, in *secretsmanager.CreateSecretInput,
) *secretsmanager.CreateSecretOutput {
	t.Helper()
	out, err := e.client.CreateSecret(context.Background(), in)
	if err != nil {
		t.Fatalf("seeding %s: %v", aws.ToString(in.Name), err)
	}
	return out
}

func (e emulator) createString(t *testing.T, name, value string,
) *secretsmanager.CreateSecretOutput {
	t.Helper()
	return e.create(t, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value)})
}

func parse(t *testing.T, raw string) source.Ref {
	t.Helper()
	ref, err := source.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// fetchOne fetches one reference and fails the test on an error.
func fetchOne(t *testing.T, src *awssm.Source, raw string) source.Secret {
	t.Helper()
	res := src.Fetch(context.Background(), []source.Ref{parse(t, raw)})
	if len(res) != 1 {
		t.Fatalf("%s: got %d results, want 1", raw, len(res))
	}
	if res[0].Err != nil {
		t.Fatalf("%s: %v", raw, res[0].Err)
	}
	return res[0].Secret
}

func TestByNameFullARNAndPartialARN(t *testing.T) {
	e := start(t)
	created := e.createString(t, "byname/db", "p@ss")
	arn := aws.ToString(created.ARN)
	// kumo, like AWS, ends the ARN with "-" and six random characters;
	// without them it is a partial ARN.
	partial := arn[:len(arn)-7]
	if !strings.HasSuffix(partial, ":secret:byname/db") {
		t.Fatalf("unexpected ARN shape %q", arn)
	}
	src := awssm.New(e.client)
	for _, raw := range []string{"aws-sm://byname/db", "aws-sm://" + arn, "aws-sm://" + partial} {
		sec := fetchOne(t, src, raw)
		if got := sec.Value.Reveal(); got != "p@ss" {
			t.Errorf("%s: value %q, want %q", raw, got, "p@ss")
		}
		if sec.Version != aws.ToString(created.VersionId) || sec.Binary {
			t.Errorf("%s: version %q binary %v, want %q false",
				raw, sec.Version, sec.Binary, aws.ToString(created.VersionId))
		}
		if sec.Ref.Raw != raw {
			t.Errorf("result names %q, want %q", sec.Ref.Raw, raw)
		}
	}
}

// TestVersions makes exactly one update: kumo's AWSPREVIOUS stage is
// unreliable after more than one.
func TestVersions(t *testing.T) {
	e := start(t)
	first := e.createString(t, "versions/api", "one")
	second, err := e.client.PutSecretValue(context.Background(),
		&secretsmanager.PutSecretValueInput{
			SecretId: aws.String("versions/api"), SecretString: aws.String("two")})
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := aws.ToString(first.VersionId), aws.ToString(second.VersionId)
	src := awssm.New(e.client)
	for raw, want := range map[string][2]string{
		"aws-sm://versions/api":                                     {"two", v2},
		"aws-sm://versions/api?version_id=" + v1:                    {"one", v1},
		"aws-sm://versions/api?version_id=" + v2:                    {"two", v2},
		"aws-sm://versions/api?version_stage=AWSCURRENT":            {"two", v2},
		"aws-sm://versions/api?version_stage=AWSPREVIOUS":           {"one", v1},
		"aws-sm://" + aws.ToString(first.ARN) + "?version_id=" + v1: {"one", v1},
	} {
		sec := fetchOne(t, src, raw)
		if sec.Value.Reveal() != want[0] || sec.Version != want[1] {
			t.Errorf("%s: got %q version %s, want %q version %s",
				raw, sec.Value.Reveal(), sec.Version, want[0], want[1])
		}
	}
}

func TestBinaryExact(t *testing.T) {
	e := start(t)
	want := []byte{0x00, 0x01, 0xff, 0xfe, '\n', 'a', 0x00, 0x80}
	e.create(t, &secretsmanager.CreateSecretInput{
		Name: aws.String("binary/cert"), SecretBinary: want})
	sec := fetchOne(t, awssm.New(e.client), "aws-sm://binary/cert")
	if !bytes.Equal(sec.Value.Bytes(), want) {
		t.Errorf("bytes %x, want %x", sec.Value.Bytes(), want)
	}
	if !sec.Binary {
		t.Error("Binary is false for a SecretBinary")
	}
}

func TestValuesByteForByte(t *testing.T) {
	e := start(t)
	src := awssm.New(e.client)
	values := map[string]string{
		"newline": "tok\n",
		"equals":  "a=b==",
		"dashes":  "--k3y",
		"unicode": "héllo ✓",
		"dollar":  "$HOME",
		"quotes":  `it's "both"`,
	}
	for name, want := range values {
		e.createString(t, "bytes/"+name, want)
		sec := fetchOne(t, src, "aws-sm://bytes/"+name)
		if got := sec.Value.Reveal(); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

func TestMissingIsPermanentNotFound(t *testing.T) {
	e := start(t)
	e.createString(t, "missing/exists", "x")
	src := awssm.New(e.client)
	for _, raw := range []string{
		"aws-sm://missing/nope",
		"aws-sm://missing/exists?version_id=00000000-0000-0000-0000-000000000000",
		"aws-sm://missing/exists?version_stage=NOSUCHSTAGE",
	} {
		res := src.Fetch(context.Background(), []source.Ref{parse(t, raw)})
		err := res[0].Err
		if err == nil {
			t.Fatalf("%s: no error", raw)
		}
		if !source.IsPermanent(err) || !errors.Is(err, source.ErrNotFound) {
			t.Errorf("%s: want a permanent not-found error, got %v", raw, err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "aws-sm: not found: ") ||
			!strings.Contains(msg, "ResourceNotFoundException") {
			t.Errorf("message %q does not give the cause", msg)
		}

		// Through the resolver, which names the reference and stops at
		// once because the error is permanent.
		r := source.Resolver{Sources: map[string]source.Source{"aws-sm": src}}
		err = r.Resolve(context.Background(), []source.Ref{parse(t, raw)})[raw].Err
		if !errors.Is(err, source.ErrNotFound) ||
			!strings.HasPrefix(err.Error(), raw+": aws-sm: not found: ") {
			t.Errorf("resolver: %v", err)
		}
	}
}

func TestServerGoneIsTransient(t *testing.T) {
	e := start(t)
	e.srv.Close()
	ref := parse(t, "aws-sm://gone/db")
	res := awssm.New(e.client).Fetch(context.Background(), []source.Ref{ref})
	err := res[0].Err
	if err == nil || source.IsPermanent(err) || errors.Is(err, source.ErrNotFound) {
		t.Fatalf("want a transient error, got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "aws-sm: operation error Secrets Manager") {
		t.Errorf("message %q", err)
	}
}

func TestBatchesOneEach(t *testing.T) {
	refs := []source.Ref{parse(t, "aws-sm://a"), parse(t, "aws-sm://b"), parse(t, "aws-sm://c")}
	batches := awssm.New(nil).Batches(refs)
	if len(batches) != 3 {
		t.Fatalf("got %d batches, want 3", len(batches))
	}
	for i, b := range batches {
		if len(b) != 1 || b[0].Raw != refs[i].Raw {
			t.Errorf("batch %d = %v", i, b)
		}
	}
}

func TestVersionsFollowTheStage(t *testing.T) {
	e := start(t)
	name := "versions/db"
	first := aws.ToString(e.createString(t, name, "one").VersionId)
	put, err := e.client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(name), SecretString: aws.String("two")})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(put.VersionId)
	refs := []source.Ref{
		parse(t, "aws-sm://"+name),
		parse(t, "aws-sm://"+name+"?version_stage=AWSPREVIOUS"),
		parse(t, "aws-sm://"+name+"?version_id=pinned-id"),
		parse(t, "aws-sm://versions/missing"),
	}
	got := awssm.New(e.client).Versions(context.Background(), refs)
	want := []string{second, first, "pinned-id", ""}
	for i := range want {
		if got[i].ID != want[i] {
			t.Errorf("%s: version %q, want %q", refs[i].Raw, got[i].ID, want[i])
		}
	}
	if !errors.Is(got[3].Err, source.ErrNotFound) {
		t.Errorf("missing secret: err %v, want not found", got[3].Err)
	}
}
