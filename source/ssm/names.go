package ssm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/awscfg"
)

// fetchNames resolves refs[i] for each i in idx with one GetParameters
// call and stores the answers in results[i].
func (s *Source) fetchNames(ctx context.Context, refs []source.Ref, idx []int,
	results []source.Result) {
	var names []string
	for _, i := range idx {
		names = appendNew(names, refs[i].Locator)
	}
	out, err := s.api.GetParameters(ctx, &awsssm.GetParametersInput{
		Names:          names, // byte for byte, selectors included
		WithDecryption: aws.Bool(true),
	})
	if err != nil {
		// One call answers for all: a name AWS rejects as invalid fails
		// the others in its batch too.
		err = awscfg.Classify("ssm", err)
		for _, i := range idx {
			results[i] = source.Result{Err: err}
		}
		return
	}
	found := match(names, out.Parameters)
	for _, i := range idx {
		results[i] = answer(refs[i], found, out.InvalidParameters)
	}
}

// answer is the result for one requested name.
func answer(ref source.Ref, found map[string]types.Parameter, invalid []string) source.Result {
	if p, ok := found[ref.Locator]; ok {
		return source.Result{Secret: source.Secret{
			Ref:     ref,
			Version: strconv.FormatInt(p.Version, 10),
			Value:   secret.FromString(aws.ToString(p.Value)),
		}}
	}
	if slices.Contains(invalid, ref.Locator) {
		return source.Result{Err: source.Permanent(fmt.Errorf(
			"ssm: %w: GetParameters lists it in InvalidParameters", source.ErrNotFound))}
	}
	return source.Result{Err: source.Permanent(errors.New(
		"ssm: GetParameters returned neither this parameter nor an InvalidParameters entry"))}
}

// match pairs each requested name with the parameter that answers it.
//
// AWS returns a parameter's Name without the selector it was asked for
// with: "/db/pass:3" comes back as Name "/db/pass", Selector ":3", and
// "/db/pass:prod" as Selector ":prod". A name asked for by ARN comes
// back with the ARN beside it. So a parameter answers its Name or its ARN,
// each followed by its Selector. Requests for "/db/pass" and "/db/pass:3"
// in one call get two parameters, told apart the same way.
func match(names []string, params []types.Parameter) map[string]types.Parameter {
	found := make(map[string]types.Parameter, len(names))
	for _, p := range params {
		for _, key := range answersTo(p) {
			if slices.Contains(names, key) {
				found[key] = p
			}
		}
	}
	return found
}

// answersTo lists the request names a returned parameter can answer.
func answersTo(p types.Parameter) []string {
	sel := aws.ToString(p.Selector)
	if sel != "" && !strings.HasPrefix(sel, ":") {
		sel = ":" + sel // AWS documents the form name:selector
	}
	keys := []string{aws.ToString(p.Name) + sel}
	if arn := aws.ToString(p.ARN); arn != "" {
		keys = append(keys, arn+sel)
	}
	return keys
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
