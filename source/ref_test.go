package source

import (
	"net/url"
	"reflect"
	"testing"
)

func TestParseRef(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"
	tests := []struct {
		raw  string
		want Ref
	}{
		{"aws-sm://" + arn,
			Ref{Scheme: SchemeSecretsManager, Locator: arn}},
		{"aws-sm://" + arn + "#password",
			Ref{Scheme: SchemeSecretsManager, Locator: arn, Key: "password"}},
		{"aws-sm://prod/api?version_stage=AWSPREVIOUS#key",
			Ref{Scheme: SchemeSecretsManager, Locator: "prod/api", Key: "key",
				Query: url.Values{"version_stage": {"AWSPREVIOUS"}}}},
		{"aws-sm://prod/api?version_id=0123-abcd",
			Ref{Scheme: SchemeSecretsManager, Locator: "prod/api",
				Query: url.Values{"version_id": {"0123-abcd"}}}},
		{"aws-sm://prod/db#a.b",
			Ref{Scheme: SchemeSecretsManager, Locator: "prod/db", Key: "a.b"}},
		{"ssm:///prod/app/", Ref{Scheme: SchemeParameterStore, Locator: "/prod/app/"}},
		{"ssm://prod/app/", Ref{Scheme: SchemeParameterStore, Locator: "prod/app/"}},
		{"ssm:///prod/app/db", Ref{Scheme: SchemeParameterStore, Locator: "/prod/app/db"}},
		{"ssm://name:3", Ref{Scheme: SchemeParameterStore, Locator: "name:3"}},
		{"ssm://name:label", Ref{Scheme: SchemeParameterStore, Locator: "name:label"}},
		{"ssm://name:3#k", Ref{Scheme: SchemeParameterStore, Locator: "name:3", Key: "k"}},
		// Nothing is decoded or trimmed: $, %, + and spaces arrive as written.
		{"aws-sm://pre$fix/$HOME%2F+x y ",
			Ref{Scheme: SchemeSecretsManager, Locator: "pre$fix/$HOME%2F+x y "}},
		{"aws-sm://a//b/", Ref{Scheme: SchemeSecretsManager, Locator: "a//b/"}},
		{"file://./dev.env?format=dotenv#DB",
			Ref{Scheme: SchemeFile, Locator: "./dev.env", Key: "DB",
				Query: url.Values{"format": {"dotenv"}}}},
		{"vault://secret/app#password",
			Ref{Scheme: SchemeVault, Locator: "secret/app", Key: "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Raw = tt.raw
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			if got.String() != tt.raw {
				t.Errorf("String() = %q, want %q", got.String(), tt.raw)
			}
		})
	}
}

func TestParseRefErrors(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"prod/db", `reference "prod/db" has no scheme; ` +
			"use one of aws-sm://, ssm://, file://, vault://"},
		{"", `reference "" has no scheme; use one of aws-sm://, ssm://, file://, vault://`},
		{"s3://bucket/key", `reference "s3://bucket/key": unknown scheme "s3"; ` +
			"use one of aws-sm://, ssm://, file://, vault://"},
		{"AWS-SM://x", `reference "AWS-SM://x": unknown scheme "AWS-SM"; ` +
			"use one of aws-sm://, ssm://, file://, vault://"},
		{"aws-sm://", `reference "aws-sm://": nothing after aws-sm://`},
		{"aws-sm://#k", `reference "aws-sm://#k": nothing after aws-sm://`},
		{"ssm://?x=1", `reference "ssm://?x=1": nothing after ssm://`},
		{"aws-sm://a?stage=AWSCURRENT", `reference "aws-sm://a?stage=AWSCURRENT": ` +
			`unknown option "stage"; allowed: version_id, version_stage`},
		{"file://a?version=1", `reference "file://a?version=1": ` +
			`unknown option "version"; allowed: format`},
		{"ssm://a?version=3", `reference "ssm://a?version=3": ssm references take no ?version`},
		{"aws-sm://a?version_id=", `reference "aws-sm://a?version_id=": ` +
			`option "version_id" needs exactly one non-empty value`},
		{"aws-sm://a?version_id=1&version_id=2", `reference ` +
			`"aws-sm://a?version_id=1&version_id=2": ` +
			`option "version_id" needs exactly one non-empty value`},
		{"aws-sm://a?version_id=1&version_stage=AWSCURRENT", `reference ` +
			`"aws-sm://a?version_id=1&version_stage=AWSCURRENT": ` +
			"give version_id or version_stage, not both"},
		{"aws-sm://a?version_id=%zz", `reference "aws-sm://a?version_id=%zz": ` +
			`bad query: invalid URL escape "%zz"`},
		{"aws-sm://a#", `reference "aws-sm://a#": empty or repeated #key`},
		{"aws-sm://a#b#c", `reference "aws-sm://a#b#c": empty or repeated #key`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := Parse(tt.raw)
			if err == nil {
				t.Fatalf("no error; got %#v", got)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestRefTarget(t *testing.T) {
	ref := func(raw string, recursive bool) Ref {
		t.Helper()
		r, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		r.Recursive = recursive
		return r
	}
	same := [][2]Ref{
		{ref("aws-sm://prod/db#user", false), ref("aws-sm://prod/db#password", false)},
		{ref("aws-sm://prod/db", false), ref("aws-sm://prod/db#a.b", false)},
		{ref("aws-sm://a?version_stage=AWSPREVIOUS#x", false),
			ref("aws-sm://a?version_stage=AWSPREVIOUS#y", false)},
		{ref("ssm:///app/", true), ref("ssm:///app/", true)},
	}
	for _, p := range same {
		if p[0].Target() != p[1].Target() {
			t.Errorf("Target(%s) = %q, Target(%s) = %q; want equal",
				p[0], p[0].Target(), p[1], p[1].Target())
		}
	}
	different := [][2]Ref{
		{ref("ssm:///app/", false), ref("ssm:///app/", true)},
		{ref("aws-sm://a", false), ref("aws-sm://a?version_stage=AWSPREVIOUS", false)},
		{ref("aws-sm://a", false), ref("ssm://a", false)},
		{ref("ssm:///app", false), ref("ssm:///app/", false)},
	}
	for _, p := range different {
		if p[0].Target() == p[1].Target() {
			t.Errorf("Target(%s) = Target(%s) = %q; want different",
				p[0], p[1], p[0].Target())
		}
	}
}

func TestRefIsPath(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{"ssm:///prod/app/", true},
		{"ssm://prod/", true},
		{"ssm:///prod/app", false},
		{"ssm://name:3", false},
		{"aws-sm://prod/app/", false},
		{"file://./dir/", false},
	}
	for _, tt := range tests {
		r, err := Parse(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.IsPath(); got != tt.want {
			t.Errorf("IsPath(%s) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}
