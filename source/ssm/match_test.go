package ssm

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/envwrap/envwrap/source"
)

const arnPrefix = "arn:aws:ssm:eu-west-1:123456789012:parameter"

// TestMatchSelectors feeds match the shapes AWS documents for
// GetParameters with selectors, which kumo v0.33.1 cannot produce: the
// Name comes back bare, the selector in Selector, the ARN beside them.
func TestMatchSelectors(t *testing.T) {
	params := []types.Parameter{
		{Name: aws.String("/db/pass"), Version: 4, ARN: aws.String(arnPrefix + "/db/pass")},
		{Name: aws.String("/db/pass"), Version: 3, Selector: aws.String(":3"),
			ARN: aws.String(arnPrefix + "/db/pass")},
		{Name: aws.String("/db/pass"), Version: 2, Selector: aws.String(":prod"),
			ARN: aws.String(arnPrefix + "/db/pass")},
		{Name: aws.String("/db/user"), Version: 7, ARN: aws.String(arnPrefix + "/db/user")},
		// A parameter shared from another account, asked for by ARN,
		// whose Name is the ARN itself.
		{Name: aws.String(arnPrefix + "/shared"), Version: 1, Selector: aws.String(":1"),
			ARN: aws.String(arnPrefix + "/shared")},
		// Selector written without its colon: accepted all the same.
		{Name: aws.String("/bare"), Version: 5, Selector: aws.String("5")},
	}
	want := map[string]int64{
		"/db/pass":                4,
		"/db/pass:3":              3,
		"/db/pass:prod":           2,
		arnPrefix + "/db/user":    7,
		arnPrefix + "/shared:1":   1,
		"/bare:5":                 5,
		"/db/pass:9":              0, // not returned: no match
		arnPrefix + "/db/pass:99": 0,
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	found := match(names, params)
	for name, version := range want {
		p, ok := found[name]
		if version == 0 {
			if ok {
				t.Errorf("%s matched version %d, want no match", name, p.Version)
			}
			continue
		}
		if !ok || p.Version != version {
			t.Errorf("%s matched version %d (found %v), want %d", name, p.Version, ok, version)
		}
	}
}

func TestRelative(t *testing.T) {
	for _, tc := range []struct {
		path      string
		recursive bool
		name      string
		want      string
		ok        bool
	}{
		{"/app/", false, "/app/db", "db", true},
		{"/app/", false, "/app/db/host", "", false}, // deeper, not recursive
		{"/app/", true, "/app/db/host", "db/host", true},
		{"/app/", true, "/app2/x", "", false}, // a sibling, not a child
		{"/app/", true, "/apple", "", false},
		{"/app/", true, "/app/", "", false},
		{"/app/", true, "/app//x", "", false},
		{"/app/", true, "/other/app/x", "", false},
		{"/", false, "top", "top", true}, // AWS roots a name without "/"
		{"app/", false, "/app/x", "x", true},
		{"/app/", false, "app/x", "x", true},
		{"/", false, "/a/b", "", false},
		{"/", true, "/a/b", "a/b", true},
	} {
		got, ok := relative(tc.path, tc.recursive, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("relative(%q, %v, %q) = %q, %v; want %q, %v",
				tc.path, tc.recursive, tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestUnderFiltersServerAnswers shows that a server which ignores
// Recursive or matches by bare string prefix cannot widen a read.
func TestUnderFiltersServerAnswers(t *testing.T) {
	params := []types.Parameter{
		{Name: aws.String("/app/a"), Value: aws.String("1"), Version: 1},
		{Name: aws.String("/app/db/host"), Value: aws.String("2"), Version: 1},
		{Name: aws.String("/app2/x"), Value: aws.String("3"), Version: 1},
	}
	tree, _ := under("/app/", false, params)
	if len(tree) != 1 || tree["a"].Reveal() != "1" {
		t.Errorf("non-recursive tree has %d entries, want only a", len(tree))
	}
	tree, _ = under("/app/", true, params)
	if len(tree) != 2 || tree["db/host"].Reveal() != "2" {
		t.Errorf("recursive tree has %d entries, want a and db/host", len(tree))
	}
}

func TestDigestIgnoresOrderAndValues(t *testing.T) {
	a := []types.Parameter{
		{Name: aws.String("/d/x"), Value: aws.String("one"), Version: 1},
		{Name: aws.String("/d/y"), Value: aws.String("two"), Version: 2},
	}
	b := []types.Parameter{a[1], a[0]}
	b[0].Value = aws.String("other")
	_, da := under("/d/", false, a)
	_, db := under("/d/", false, b)
	if da != db {
		t.Errorf("digest depends on order or values: %s != %s", da, db)
	}
	b[0].Version = 3
	if _, dc := under("/d/", false, b); dc == da {
		t.Error("digest did not change with a version")
	}
}

func TestBatchesPathsAlone(t *testing.T) {
	var refs []source.Ref
	for _, raw := range []string{
		"ssm:///a", "ssm:///p/", "ssm:///b", "ssm:///c", "ssm:///d", "ssm:///e",
		"ssm:///f", "ssm:///g", "ssm:///h", "ssm:///i", "ssm:///j", "ssm:///q/", "ssm:///k",
	} {
		ref, err := source.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	var got [][]string
	for _, b := range New(nil).Batches(refs) {
		var raws []string
		for _, r := range b {
			raws = append(raws, r.Raw)
		}
		got = append(got, raws)
	}
	want := [][]string{
		{"ssm:///p/"}, {"ssm:///q/"},
		{"ssm:///a", "ssm:///b", "ssm:///c", "ssm:///d", "ssm:///e",
			"ssm:///f", "ssm:///g", "ssm:///h", "ssm:///i", "ssm:///j"},
		{"ssm:///k"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches %v, want %v", got, want)
	}
}
