// Package awssm is the AWS Secrets Manager backend. It serves aws-sm://
// references: a secret's name, full ARN or partial ARN, optionally pinned
// with ?version_id= or ?version_stage=. A SecretString becomes the value
// as it is; a SecretBinary becomes the value with Secret.Binary set.
package awssm

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/awscfg"
)

// API is the part of the Secrets Manager client this backend calls;
// *secretsmanager.Client satisfies it.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput,
		optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput,
		optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

var (
	_ source.Source  = (*Source)(nil)
	_ source.Checker = (*Source)(nil)
	_ API            = (*secretsmanager.Client)(nil)
)

// Source fetches secrets from Secrets Manager.
type Source struct {
	api API
}

// New returns a Source that calls api, typically a client made by
// awscfg.SecretsManagerClient.
func New(api API) *Source {
	return &Source{api: api}
}

// Batches puts every reference in a batch of its own.
//
// BatchGetSecretValue could serve 20 secrets a call, but kumo v0.33.1,
// the emulator the tests run against, answers it with "InvalidAction:
// The action BatchGetSecretValue is not valid", and a code path that no
// test exercises is not shipped. Until then each secret costs one
// GetSecretValue call; the resolver runs them concurrently.
func (s *Source) Batches(refs []source.Ref) [][]source.Ref {
	batches := make([][]source.Ref, len(refs))
	for i, ref := range refs {
		batches[i] = []source.Ref{ref}
	}
	return batches
}

// Fetch calls GetSecretValue once for each reference. Its errors are
// not wrapped in source.RefError: the resolver does that, outside its own
// notes such as "gave up retrying", so that each message starts with the
// reference.
func (s *Source) Fetch(ctx context.Context, refs []source.Ref) []source.Result {
	results := make([]source.Result, len(refs))
	for i, ref := range refs {
		results[i] = s.fetch(ctx, ref)
	}
	return results
}

func (s *Source) fetch(ctx context.Context, ref source.Ref) source.Result {
	out, err := s.api.GetSecretValue(ctx, input(ref))
	if err != nil {
		return source.Result{Err: awscfg.Classify("aws-sm", err)}
	}
	sec := source.Secret{Ref: ref, Version: aws.ToString(out.VersionId)}
	switch {
	case out.SecretString != nil:
		sec.Value = secret.FromString(*out.SecretString)
	case out.SecretBinary != nil:
		sec.Value = secret.New(out.SecretBinary)
		sec.Binary = true
	default:
		return source.Result{Err: source.Permanent(errors.New(
			"aws-sm: the response holds neither SecretString nor SecretBinary"))}
	}
	return source.Result{Secret: sec}
}

// input sends the locator byte for byte as the SecretId, whether it is a
// name, a full ARN or a partial one; AWS tells them apart.
func input(ref source.Ref) *secretsmanager.GetSecretValueInput {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.Locator)}
	if id := ref.Query.Get("version_id"); id != "" {
		in.VersionId = aws.String(id)
	}
	if stage := ref.Query.Get("version_stage"); stage != "" {
		in.VersionStage = aws.String(stage)
	}
	return in
}

// Versions learns each secret's current version with DescribeSecret,
// which returns metadata only: no value is decrypted or sent. A reference
// pinned with ?version_id= cannot move and costs no call.
func (s *Source) Versions(ctx context.Context, refs []source.Ref) []source.Version {
	out := make([]source.Version, len(refs))
	for i, ref := range refs {
		if id := ref.Query.Get("version_id"); id != "" {
			out[i] = source.Version{ID: id}
			continue
		}
		out[i] = s.version(ctx, ref)
	}
	return out
}

func (s *Source) version(ctx context.Context, ref source.Ref) source.Version {
	desc, err := s.api.DescribeSecret(ctx,
		&secretsmanager.DescribeSecretInput{SecretId: aws.String(ref.Locator)})
	if err != nil {
		return source.Version{Err: awscfg.Classify("aws-sm", err)}
	}
	stage := ref.Query.Get("version_stage")
	if stage == "" {
		stage = "AWSCURRENT"
	}
	for id, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, stage) {
			return source.Version{ID: id}
		}
	}
	return source.Version{Err: source.Permanent(fmt.Errorf(
		"aws-sm: no version carries the stage %s", stage))}
}
