package awscfg_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/sivchari/kumo"

	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/awscfg"
)

// isolate gives the SDK's default chain nothing from the machine it runs
// on: static test credentials, no profile files, no metadata service, no
// endpoint or retry settings.
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{
		"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
	} {
		t.Setenv(k, "") // restores the old value when the test ends
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoad(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "7") // must not bring retries back
	o := awscfg.Options{Region: "eu-west-1", Endpoint: "http://127.0.0.1:4566"}
	cfg, err := awscfg.Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || aws.ToString(cfg.BaseEndpoint) != o.Endpoint {
		t.Errorf("region %q endpoint %q", cfg.Region, aws.ToString(cfg.BaseEndpoint))
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "test" || creds.SecretAccessKey != "test" {
		t.Errorf("credentials %q, %v; want the static test pair", creds.AccessKeyID, err)
	}
	client := awscfg.SSMClient(cfg, o)
	if n := client.Options().Retryer.MaxAttempts(); n != 1 {
		t.Errorf("the SSM client makes %d attempts, want 1", n)
	}
	sm := awscfg.SecretsManagerClient(cfg, o)
	if n := sm.Options().Retryer.MaxAttempts(); n != 1 {
		t.Errorf("the Secrets Manager client makes %d attempts, want 1", n)
	}
}

func TestLoadRegion(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_REGION", "ap-south-1")
	cfg, err := awscfg.Load(context.Background(), awscfg.Options{})
	if err != nil || cfg.Region != "ap-south-1" || cfg.BaseEndpoint != nil {
		t.Errorf("got region %q endpoint %v err %v; want the chain's region, no endpoint",
			cfg.Region, cfg.BaseEndpoint, err)
	}
	cfg, err = awscfg.Load(context.Background(), awscfg.Options{Region: "us-west-2"})
	if err != nil || cfg.Region != "us-west-2" {
		t.Errorf("got region %q err %v; want the manifest's region to win", cfg.Region, err)
	}
}

func TestLoadNoRegion(t *testing.T) {
	isolate(t)
	_, err := awscfg.Load(context.Background(), awscfg.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "awscfg: no AWS region") {
		t.Errorf("got %v, want a missing-region error", err)
	}
}

func TestLoadRejectsBadEndpoints(t *testing.T) {
	isolate(t)
	for _, endpoint := range []string{
		"127.0.0.1:4566",
		"localhost",
		"ftp://127.0.0.1/",
		"http://",
		"http:///path",
		"http://127.0.0.1:4566/?x=1",
		"http://127.0.0.1:4566/#frag",
		"http://user:hunter2@127.0.0.1:4566",
		"http://[::1",
	} {
		_, err := awscfg.Load(context.Background(), awscfg.Options{
			Region: "us-east-1", Endpoint: endpoint})
		if err == nil {
			t.Errorf("%q: accepted", endpoint)
			continue
		}
		if !strings.HasPrefix(err.Error(), "awscfg: endpoint") ||
			strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: message %q", endpoint, err)
		}
	}
	for _, endpoint := range []string{"http://127.0.0.1:4566", "https://localhost/base/"} {
		if _, err := awscfg.Load(context.Background(), awscfg.Options{
			Region: "us-east-1", Endpoint: endpoint}); err != nil {
			t.Errorf("%q: %v", endpoint, err)
		}
	}
}

// TestManifestEndpointWins points the variables that the SDK lets
// override cfg.BaseEndpoint at a decoy server of the test's own; calls
// must still reach the manifest's endpoint, a kumo server.
func TestManifestEndpointWins(t *testing.T) {
	isolate(t)
	srv := kumo.NewServer()
	defer srv.Close()
	var decoyHits atomic.Int32
	decoy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		decoyHits.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer decoy.Close()
	t.Setenv("AWS_ENDPOINT_URL", decoy.URL)
	t.Setenv("AWS_ENDPOINT_URL_SSM", decoy.URL)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", decoy.URL)

	ctx := context.Background()
	o := awscfg.Options{Region: "us-east-1", Endpoint: srv.URL}
	cfg, err := awscfg.Load(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	in := &ssm.GetParametersInput{Names: []string{"/endpoint/none"}}
	if _, err := awscfg.SSMClient(cfg, o).GetParameters(ctx, in); err != nil {
		t.Errorf("ssm call to the manifest endpoint: %v", err)
	}
	_, err = awscfg.SecretsManagerClient(cfg, o).GetSecretValue(ctx,
		&secretsmanager.GetSecretValueInput{SecretId: aws.String("endpoint/none")})
	if !errors.Is(awscfg.Classify("aws-sm", err), source.ErrNotFound) {
		t.Errorf("secrets manager call to the manifest endpoint: %v", err)
	}
	if n := decoyHits.Load(); n != 0 {
		t.Errorf("the decoy got %d calls, want 0", n)
	}

	// Without a manifest endpoint the SDK's own precedence stands.
	cfg, err = awscfg.Load(ctx, awscfg.Options{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = awscfg.SSMClient(cfg, awscfg.Options{}).GetParameters(ctx, in)
	if n := decoyHits.Load(); n != 1 {
		t.Errorf("the decoy got %d calls, want 1", n)
	}
}
