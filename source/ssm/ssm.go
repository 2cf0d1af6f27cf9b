// Package ssm is the AWS Systems Manager Parameter Store backend. It
// serves ssm:// references: a single parameter name, optionally with a
// name:version or name:label selector, or a path ending in "/" that
// stands for every parameter under it. SecureString values are always
// decrypted; StringList values are kept exactly as AWS returns them.
package ssm

import (
	"context"
	"slices"

	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/envwrap/envwrap/source"
)

// API is the part of the Systems Manager client this backend calls;
// *awsssm.Client satisfies it.
type API interface {
	GetParameters(ctx context.Context, in *awsssm.GetParametersInput,
		optFns ...func(*awsssm.Options)) (*awsssm.GetParametersOutput, error)
	GetParametersByPath(ctx context.Context, in *awsssm.GetParametersByPathInput,
		optFns ...func(*awsssm.Options)) (*awsssm.GetParametersByPathOutput, error)
}

var (
	_ source.Source = (*Source)(nil)
	_ API           = (*awsssm.Client)(nil)
)

// Limits AWS sets on the two calls.
const (
	maxNames = 10 // names in one GetParameters call
	pageSize = 10 // the largest MaxResults GetParametersByPath accepts
)

// Source fetches parameters from Parameter Store.
type Source struct {
	api API
}

// New returns a Source that calls api, typically a client made by
// awscfg.SSMClient.
func New(api API) *Source {
	return &Source{api: api}
}

// Batches puts single names ten to a batch, the most one GetParameters
// call takes, and every path in a batch of its own.
func (s *Source) Batches(refs []source.Ref) [][]source.Ref {
	var batches [][]source.Ref
	var names []source.Ref
	for _, ref := range refs {
		if ref.IsPath() {
			batches = append(batches, []source.Ref{ref})
			continue
		}
		names = append(names, ref)
	}
	return slices.AppendSeq(batches, slices.Chunk(names, maxNames))
}

// Fetch resolves paths one by one and names ten to a call, whatever mix
// of them the batch holds. Its errors are not wrapped in source.RefError:
// the resolver does that, outside its own notes such as "gave up
// retrying", so that each message starts with the reference.
func (s *Source) Fetch(ctx context.Context, refs []source.Ref) []source.Result {
	results := make([]source.Result, len(refs))
	var names []int // indexes into refs
	for i, ref := range refs {
		if ref.IsPath() {
			results[i] = s.fetchPath(ctx, ref)
			continue
		}
		names = append(names, i)
	}
	for chunk := range slices.Chunk(names, maxNames) {
		s.fetchNames(ctx, refs, chunk, results)
	}
	return results
}
