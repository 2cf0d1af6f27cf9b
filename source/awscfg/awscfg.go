// Package awscfg owns what the two AWS backends, awssm and ssm, share:
// the aws.Config built from the SDK's default chain plus the manifest's
// region and endpoint, the service clients made from it, and the sorting
// of AWS errors into those a retry can cure and those it cannot.
//
// The SDK's own retries are off. source.Resolver retries every backend
// with backoff under one total deadline; a second layer of retries inside
// each call would multiply the attempts and stretch a call past that
// deadline.
package awscfg

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go/middleware"
)

// Options are the manifest's aws settings. The zero Options leaves
// everything to the SDK's default chain.
type Options struct {
	// Region overrides the chain's region (AWS_REGION, the profile) when
	// not empty.
	Region string
	// Endpoint replaces the AWS endpoint of every service, for local
	// emulators only. Empty means the real AWS endpoints.
	Endpoint string
	// OnCall, if set, is told of every API call made: the backend
	// ("aws-sm" or "ssm"), the operation and its error. Metrics use it.
	OnCall func(backend, operation string, err error)
}

// Load builds the configuration the AWS backends use: credentials and
// the rest from the SDK's default chain, Region and Endpoint from o, and
// one attempt per call. It fails when no region is known, because every
// call would fail later with a less helpful message.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	if err := checkEndpoint(o.Endpoint); err != nil {
		return aws.Config{}, err
	}
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awscfg: loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("awscfg: no AWS region: " +
			"set aws.region in the manifest, or AWS_REGION")
	}

	// Set after loading so that AWS_MAX_ATTEMPTS and AWS_RETRY_MODE
	// cannot bring the SDK's retries back.
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	cfg.RetryMaxAttempts = 0
	if o.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(o.Endpoint)
	}
	if o.OnCall != nil {
		cfg.APIOptions = append(cfg.APIOptions, counter(o.OnCall))
	}
	return cfg, nil
}

// counter adds a step to every call that reports it to onCall.
func counter(onCall func(backend, operation string, err error)) func(*middleware.Stack) error {
	step := middleware.InitializeMiddlewareFunc("envwrapCallCounter",
		func(ctx context.Context, in middleware.InitializeInput,
			next middleware.InitializeHandler) (middleware.InitializeOutput,
			middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			backend := awsmiddleware.GetServiceID(ctx)
			if b, ok := backends[backend]; ok {
				backend = b
			}
			onCall(backend, awsmiddleware.GetOperationName(ctx), err)
			return out, md, err
		})
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(step, middleware.After)
	}
}

// backends names the SDK's service ids as envwrap's schemes.
var backends = map[string]string{"Secrets Manager": "aws-sm", "SSM": "ssm"}

// SecretsManagerClient returns a Secrets Manager client for cfg with the
// manifest's endpoint, if any, applied to the client itself.
//
// Setting cfg.BaseEndpoint is not enough: the SDK lets a service-specific
// AWS_ENDPOINT_URL_SECRETS_MANAGER, or endpoint_url in a profile's
// service section, override it, and the manifest must win.
func SecretsManagerClient(cfg aws.Config, o Options) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(cfg, func(so *secretsmanager.Options) {
		setEndpoint(&so.BaseEndpoint, o.Endpoint)
	})
}

// SSMClient returns a Systems Manager client for cfg with the manifest's
// endpoint, if any, applied as SecretsManagerClient applies it.
func SSMClient(cfg aws.Config, o Options) *ssm.Client {
	return ssm.NewFromConfig(cfg, func(so *ssm.Options) {
		setEndpoint(&so.BaseEndpoint, o.Endpoint)
	})
}

func setEndpoint(dst **string, endpoint string) {
	if endpoint != "" {
		*dst = aws.String(endpoint)
	}
}

// checkEndpoint accepts "" (no override) or an http(s) URL with a host.
// A URL carrying a user or password is refused without being echoed.
func checkEndpoint(endpoint string) error {
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return fmt.Errorf("awscfg: endpoint %q is not a URL", endpoint)
	case u.User != nil:
		return errors.New("awscfg: endpoint must not carry a user or password")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("awscfg: endpoint %q: scheme must be http or https", endpoint)
	case u.Hostname() == "":
		return fmt.Errorf("awscfg: endpoint %q has no host", endpoint)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("awscfg: endpoint %q must not have a query or fragment", endpoint)
	}
	return nil
}
