package awscfg_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/sivchari/kumo"

	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/awscfg"
	"github.com/envwrap/envwrap/source/awssm"
	ssmsource "github.com/envwrap/envwrap/source/ssm"
)

// canary is stored in every backend; it must come back as a value and
// never show up anywhere else.
const canary = "canary-7f3e9b1d-ZZ"

// backends loads the configuration the way envwrap does, aimed at a
// kumo server, and returns a resolver over both AWS backends.
func backends(t *testing.T, srv *kumo.Server, log *bytes.Buffer) (
	*source.Resolver, *secretsmanager.Client, *ssm.Client) {
	t.Helper()
	o := awscfg.Options{Region: "us-east-1", Endpoint: srv.URL}
	cfg, err := awscfg.Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	sm, pm := awscfg.SecretsManagerClient(cfg, o), awscfg.SSMClient(cfg, o)
	r := &source.Resolver{
		Sources: map[string]source.Source{
			source.SchemeSecretsManager: awssm.New(sm),
			source.SchemeParameterStore: ssmsource.New(pm),
		},
		Logger:  slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	}
	return r, sm, pm
}

func seedE2E(t *testing.T, sm *secretsmanager.Client, pm *ssm.Client) {
	t.Helper()
	ctx := context.Background()
	for name, value := range map[string]string{
		"e2e/plain": canary,
		"e2e/api":   `{"key":"` + canary + `","url":"https://api.invalid"}`,
	} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
	}
	for name, typ := range map[string]types.ParameterType{
		"/e2e/app/db/pass": types.ParameterTypeSecureString,
		"/e2e/app/token":   types.ParameterTypeString,
		"/e2e/single":      types.ParameterTypeSecureString,
	} {
		if _, err := pm.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(canary), Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
}

func refs(t *testing.T, raws ...string) []source.Ref {
	t.Helper()
	var out []source.Ref
	for _, raw := range raws {
		ref, err := source.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		ref.Recursive = strings.HasSuffix(ref.Locator, "/")
		out = append(out, ref)
	}
	return out
}

func TestResolverNeverShowsValues(t *testing.T) {
	isolate(t)
	srv := kumo.NewServer()
	defer srv.Close()
	var log bytes.Buffer
	r, sm, pm := backends(t, srv, &log)
	seedE2E(t, sm, pm)

	want := refs(t, "aws-sm://e2e/plain", "aws-sm://e2e/api#key", "ssm:///e2e/app/",
		"ssm:///e2e/single")
	missing := refs(t, "aws-sm://e2e/missing", "ssm:///e2e/missing")
	results := r.Resolve(context.Background(), append(want, missing...))

	for _, ref := range want {
		res := results[ref.Target()]
		if res.Err != nil {
			t.Fatalf("%s: %v", ref, res.Err)
		}
		if got := valueOf(t, ref, res.Secret); got != canary {
			t.Errorf("%s: got %q, want the canary", ref, got)
		}
	}
	for _, ref := range missing {
		err := results[ref.Target()].Err
		if !errors.Is(err, source.ErrNotFound) || !source.IsPermanent(err) ||
			!strings.HasPrefix(err.Error(), ref.Raw+": ") {
			t.Errorf("%s: got %v, want a permanent not-found error naming it", ref, err)
		}
	}
	checkNoCanary(t, "the log", log.String())
	checkNoCanary(t, "the results", fmt.Sprintf("%v %+v %#v", results, results, results))
	if !strings.Contains(log.String(), "ref=aws-sm://e2e/missing") {
		t.Errorf("the log does not mention the failure:\n%s", log.String())
	}
}

// valueOf picks the canary's place out of each kind of result.
func valueOf(t *testing.T, ref source.Ref, sec source.Secret) string {
	t.Helper()
	switch {
	case ref.Key != "":
		v, err := source.Field(sec.Value, ref.Key)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		return v.Reveal()
	case ref.IsPath():
		if len(sec.Tree) != 2 || sec.Tree["token"].Reveal() != canary {
			t.Errorf("%s: tree has %d entries", ref, len(sec.Tree))
		}
		return sec.Tree["db/pass"].Reveal()
	}
	return sec.Value.Reveal()
}

func checkNoCanary(t *testing.T, where, text string) {
	t.Helper()
	if strings.Contains(text, canary) || strings.Contains(text, canary[:12]) {
		t.Errorf("the canary appears in %s:\n%s", where, text)
	}
}

// TestResolverGivesUpOnAStoppedServer stops kumo before resolving: the
// backends must call the failure transient, so that the resolver keeps
// trying until its deadline, and then name each reference.
func TestResolverGivesUpOnAStoppedServer(t *testing.T) {
	isolate(t)
	srv := kumo.NewServer()
	var log bytes.Buffer
	r, _, _ := backends(t, srv, &log)
	srv.Close()
	r.Deadline = 300 * time.Millisecond

	all := refs(t, "aws-sm://stopped/db", "ssm:///stopped/name", "ssm:///stopped/")
	start := time.Now()
	results := r.Resolve(context.Background(), all)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("resolve took %v with a 300ms deadline", took)
	}
	for _, ref := range all {
		err := results[ref.Target()].Err
		if err == nil || source.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: got %v, want a transient error cut off by the deadline", ref, err)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, ref.Raw+": gave up retrying (") {
			t.Errorf("%s: message %q", ref, msg)
		}
	}
	if !strings.Contains(log.String(), "attempt=2 permanent=false") {
		t.Errorf("no second attempt in the log:\n%s", log.String())
	}
}
