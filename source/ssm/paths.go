package ssm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/awscfg"
)

// fetchPath resolves a path reference into a tree of values.
func (s *Source) fetchPath(ctx context.Context, ref source.Ref) source.Result {
	params, err := s.walk(ctx, ref)
	if err != nil {
		return source.Result{Err: err}
	}
	tree, version := under(ref.Locator, ref.Recursive, params)
	return source.Result{Secret: source.Secret{Ref: ref, Tree: tree, Version: version}}
}

// walk follows every NextToken page of GetParametersByPath. The path is
// sent as written, trailing slash included.
func (s *Source) walk(ctx context.Context, ref source.Ref) ([]types.Parameter, error) {
	in := awsssm.GetParametersByPathInput{
		Path:           aws.String(ref.Locator),
		Recursive:      aws.Bool(ref.Recursive),
		WithDecryption: aws.Bool(true),
		MaxResults:     aws.Int32(pageSize),
	}
	var params []types.Parameter
	seen := make(map[string]bool)
	for {
		out, err := s.api.GetParametersByPath(ctx, &in)
		if err != nil {
			return nil, awscfg.Classify("ssm", err)
		}
		params = append(params, out.Parameters...)
		next := aws.ToString(out.NextToken)
		if next == "" {
			return params, nil
		}
		// A server that hands out a token twice would page forever.
		if seen[next] {
			return nil, source.Permanent(errors.New(
				"ssm: GetParametersByPath returned the same NextToken twice"))
		}
		seen[next] = true
		in.NextToken = aws.String(next)
	}
}

// under keys the parameters that lie under path by their name relative
// to it, and sums up their names and versions in a short digest that
// changes whenever one of them changes.
//
// It filters what the server returned rather than trusting it: a server
// that matched names by bare string prefix, or that ignored Recursive,
// would otherwise leak /app2/x into /app/ or a/b into a non-recursive
// read.
func under(path string, recursive bool, params []types.Parameter) (
	map[string]secret.Value, string) {
	tree := make(map[string]secret.Value, len(params))
	versions := make(map[string]int64, len(params))
	for _, p := range params {
		rel, ok := relative(path, recursive, aws.ToString(p.Name))
		if !ok {
			continue
		}
		tree[rel] = secret.FromString(aws.ToString(p.Value))
		versions[rel] = p.Version
	}
	return tree, digest(versions)
}

// relative returns name relative to path, and false when name does not
// lie under path, or lies deeper than one level and recursive is false.
// path ends in "/", so a match is always on whole segments.
func relative(path string, recursive bool, name string) (string, bool) {
	rel, ok := strings.CutPrefix(rooted(name), rooted(path))
	if !ok || rel == "" || strings.HasPrefix(rel, "/") {
		return "", false
	}
	if !recursive && strings.Contains(rel, "/") {
		return "", false
	}
	return rel, true
}

// rooted adds the leading slash that AWS assumes on a name without one;
// AWS itself rejects such a path, but an emulator may not, and the two
// must not then miss each other.
func rooted(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "/" + name
}

// digest is a stable summary of the names and versions under a path. It
// holds no values, so it may be logged as the path's version.
func digest(versions map[string]int64) string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(versions)) {
		fmt.Fprintf(h, "%s\x00%d\n", name, versions[name])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
