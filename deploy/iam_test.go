package deploy

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	sigsjson "sigs.k8s.io/json"

	"github.com/envwrap/envwrap/source"
)

// The IAM actions envwrap needs, and no others.
var wantActions = []string{
	"kms:Decrypt",
	"secretsmanager:BatchGetSecretValue",
	"secretsmanager:DescribeSecret",
	"secretsmanager:GetSecretValue",
	"ssm:GetParameters",
	"ssm:GetParametersByPath",
}

const batchGet = "secretsmanager:BatchGetSecretValue"

// grant is one Allow statement, from a JSON policy or from Terraform. In
// Terraform a resource that is not a literal is kept as its expression.
type grant struct {
	sid        string
	actions    []string
	resources  []string
	principals []string // "Type identifiers", trust policies only
	conditions []condition
}

type condition struct{ test, variable string }

// broadResource matches ARNs that reach every secret, parameter or key of
// an account, or every resource of a service.
var broadResource = regexp.MustCompile(
	`:(secret|parameter|key)[:/]?\*$|^arn:[^:]*:[^:]*:[^:]*:[^:]*:\*$`)

// checkLeastPrivilege wants exactly the actions envwrap needs, Resource
// "*" only where AWS allows nothing narrower, and kms:Decrypt only by way
// of Secrets Manager or Parameter Store.
func checkLeastPrivilege(t *testing.T, where string, grants []grant) {
	t.Helper()
	var all []string
	for _, g := range grants {
		in := where + ": statement " + g.sid
		for _, a := range g.actions {
			if strings.Contains(a, "*") {
				t.Errorf("%s: action %s: name actions one by one", in, a)
			}
		}
		all = append(all, g.actions...)
		checkResources(t, in, g)
		if slices.Contains(g.actions, "kms:Decrypt") && !g.hasCondition("kms:ViaService") {
			t.Errorf("%s: kms:Decrypt without a kms:ViaService condition", in)
		}
	}
	slices.Sort(all)
	if !slices.Equal(slices.Compact(all), wantActions) {
		t.Errorf("%s: actions %v, want %v", where, all, wantActions)
	}
}

// checkResources: BatchGetSecretValue has no resource-level permissions,
// so it needs Resource "*" (the Service Authorization Reference lists no
// resource type for it), and a statement of its own so that the "*"
// grants nothing else. It returns no secret without GetSecretValue on it.
func checkResources(t *testing.T, in string, g grant) {
	t.Helper()
	star := slices.Contains(g.resources, "*")
	batchOnly := slices.Equal(g.actions, []string{batchGet})
	switch {
	case slices.Contains(g.actions, batchGet) && !batchOnly:
		t.Errorf("%s: give %s a statement of its own: its Resource is \"*\"", in, batchGet)
	case batchOnly && (!star || len(g.resources) != 1):
		t.Errorf("%s: %s supports no resource-level permissions; Resource must be \"*\"",
			in, batchGet)
	case !batchOnly && star:
		t.Errorf("%s: Resource \"*\" for %v; name the resources", in, g.actions)
	case len(g.resources) == 0:
		t.Errorf("%s: no resources", in)
	}
	for _, r := range g.resources {
		if !batchOnly && broadResource.MatchString(r) {
			t.Errorf("%s: resource %s reaches a whole service; name the resources", in, r)
		}
	}
}

func (g grant) hasCondition(variable string) bool {
	for _, c := range g.conditions {
		if strings.Contains(c.variable, variable) {
			return true
		}
	}
	return false
}

// policyDocument is an IAM policy as AWS reads it. Element names are
// matched case-sensitively and an unknown one is an error.
type policyDocument struct {
	Version   string            `json:"Version"`
	ID        string            `json:"Id,omitempty"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid       string                             `json:"Sid,omitempty"`
	Effect    string                             `json:"Effect"`
	Action    stringOrList                       `json:"Action"`
	Resource  stringOrList                       `json:"Resource"`
	Condition map[string]map[string]stringOrList `json:"Condition,omitempty"`
}

// stringOrList is a policy value: one string or a list of them.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*s = list
	return nil
}

var sidPattern = regexp.MustCompile(`^[A-Za-z0-9]*$`)

func decodePolicy(t *testing.T, file string) []grant {
	t.Helper()
	var doc policyDocument
	strict, err := sigsjson.UnmarshalStrict(readFile(t, file), &doc)
	if err = errors.Join(append(strict, err)...); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("%s: Version %q: want 2012-10-17, without which policy variables "+
			"are not evaluated", file, doc.Version)
	}
	var grants []grant
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || !sidPattern.MatchString(s.Sid) {
			t.Errorf("%s: statement %q: want Effect Allow and an alphanumeric Sid", file, s.Sid)
		}
		g := grant{sid: s.Sid, actions: s.Action, resources: s.Resource}
		for test, vars := range s.Condition {
			for v := range vars {
				g.conditions = append(g.conditions, condition{test: test, variable: v})
			}
		}
		grants = append(grants, g)
	}
	return grants
}

// TestTaskRolePolicy checks the ECS task role's policy for least
// privilege, and that it covers every AWS reference the example manifests
// fetch, in the example account and region.
func TestTaskRolePolicy(t *testing.T) {
	file := "ecs/task-role-policy.json"
	grants := decodePolicy(t, file)
	checkLeastPrivilege(t, file, grants)
	for _, m := range envwrapManifests(t) {
		parsed := parseEnvwrap(t, m)
		for _, s := range parsed.Secrets {
			for action, arn := range requests(s.From) {
				if !allows(grants, action, arn) {
					t.Errorf("%s: %s needs %s on %s, which %s does not allow",
						m.name, s.From.Raw, action, arn, file)
				}
			}
		}
	}
}

// requests lists the calls envwrap makes for a reference, as action and
// resource ARN in the example account and region. A secret's ARN ends in
// six random characters, here AbCdEf.
func requests(ref source.Ref) map[string]string {
	const region, account = "eu-west-1", "111122223333"
	ssm := "arn:aws:ssm:" + region + ":" + account + ":parameter/"
	switch ref.Scheme {
	case source.SchemeSecretsManager:
		arn := ref.Locator
		if !strings.HasPrefix(arn, "arn:") {
			arn = "arn:aws:secretsmanager:" + region + ":" + account + ":secret:" + arn + "-AbCdEf"
		}
		return map[string]string{
			"secretsmanager:GetSecretValue": arn,
			"secretsmanager:DescribeSecret": arn,
		}
	case source.SchemeParameterStore:
		name := strings.TrimPrefix(ref.Locator, "/")
		if ref.IsPath() {
			return map[string]string{
				"ssm:GetParametersByPath": ssm + name,
				"ssm:GetParameters":       ssm + name + "example",
			}
		}
		return map[string]string{"ssm:GetParameters": ssm + name}
	}
	return nil
}

// allows reports whether an Allow statement grants action on arn, with
// IAM's wildcards: * for any run of characters, ? for one.
func allows(grants []grant, action, arn string) bool {
	for _, g := range grants {
		if !slices.Contains(g.actions, action) {
			continue
		}
		for _, r := range g.resources {
			if wildcard(r).MatchString(arn) {
				return true
			}
		}
	}
	return false
}

func wildcard(pattern string) *regexp.Regexp {
	quoted := regexp.QuoteMeta(pattern)
	quoted = strings.ReplaceAll(quoted, `\*`, ".*")
	quoted = strings.ReplaceAll(quoted, `\?`, ".")
	return regexp.MustCompile("^" + quoted + "$")
}

func TestWildcard(t *testing.T) {
	secret := "arn:aws:secretsmanager:r:1:secret:prod/db-??????"
	for arn, want := range map[string]bool{
		"arn:aws:secretsmanager:r:1:secret:prod/db-AbCdEf":  true,
		"arn:aws:secretsmanager:r:1:secret:prod/db2-AbCdEf": false,
		"arn:aws:secretsmanager:r:1:secret:prod/db-AbCdE":   false,
	} {
		if got := wildcard(secret).MatchString(arn); got != want {
			t.Errorf("%s matches %s: %v, want %v", secret, arn, got, want)
		}
	}
}
