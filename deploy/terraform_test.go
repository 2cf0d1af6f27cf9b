package deploy

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// tfFile is one parsed Terraform file.
type tfFile struct {
	path string
	src  []byte
	body *hclsyntax.Body
}

// terraformFiles parses every .tf file in dir (not below it); a syntax
// error fails the test.
func terraformFiles(t *testing.T, dir string) []tfFile {
	t.Helper()
	parser := hclparse.NewParser()
	var out []tfFile
	for _, f := range filesOfKind(t, "terraform") {
		if filepath.Dir(f) != dir {
			continue
		}
		file, diags := parser.ParseHCLFile(f)
		if diags.HasErrors() {
			t.Fatalf("%v", diags)
		}
		out = append(out, tfFile{path: f, src: file.Bytes, body: file.Body.(*hclsyntax.Body)})
	}
	if len(out) == 0 {
		t.Fatalf("no .tf files in %s", dir)
	}
	return out
}

// blocks returns the top-level blocks of a type whose labels start with
// the given ones.
func blocks(files []tfFile, typ string, labels ...string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, f := range files {
		for _, b := range f.body.Blocks {
			if b.Type == typ && len(b.Labels) >= len(labels) &&
				slices.Equal(b.Labels[:len(labels)], labels) {
				out = append(out, b)
			}
		}
	}
	return out
}

func oneBlock(t *testing.T, files []tfFile, typ string, labels ...string) *hclsyntax.Block {
	t.Helper()
	bs := blocks(files, typ, labels...)
	if len(bs) != 1 {
		t.Fatalf("want one %s %q block, have %d", typ, labels, len(bs))
	}
	return bs[0]
}

func child(body *hclsyntax.Body, typ string) *hclsyntax.Block {
	for _, b := range body.Blocks {
		if b.Type == typ {
			return b
		}
	}
	return nil
}

// strs evaluates an attribute that holds literal strings, one or a list.
func strs(attr *hclsyntax.Attribute) ([]string, bool) {
	if attr == nil {
		return nil, false
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return nil, false
	}
	if v.Type() == cty.String {
		return []string{v.AsString()}, true
	}
	if !v.Type().IsListType() && !v.Type().IsTupleType() {
		return nil, false
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		if e.Type() != cty.String {
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

// text is an attribute's expression as written, for the ones that are not
// literals, such as var.secret_arns.
func text(files []tfFile, attr *hclsyntax.Attribute) string {
	for _, f := range files {
		if attr.SrcRange.Filename == f.path {
			return string(attr.Expr.Range().SliceBytes(f.src))
		}
	}
	return ""
}

// values returns an attribute's literal strings, or else its expression.
func values(files []tfFile, attr *hclsyntax.Attribute) []string {
	if attr == nil {
		return nil
	}
	if v, ok := strs(attr); ok {
		return v
	}
	return []string{text(files, attr)}
}

// statements reads the statement blocks of an aws_iam_policy_document,
// plain or dynamic, into grants.
func statements(t *testing.T, files []tfFile, doc *hclsyntax.Block) []grant {
	t.Helper()
	var out []grant
	for _, b := range doc.Body.Blocks {
		body := b.Body
		switch {
		case b.Type == "dynamic" && slices.Equal(b.Labels, []string{"statement"}):
			content := child(b.Body, "content")
			if content == nil {
				t.Fatalf("%s: dynamic statement without content", b.TypeRange)
			}
			body = content.Body
		case b.Type != "statement":
			continue
		}
		out = append(out, statement(t, files, body))
	}
	return out
}

func statement(t *testing.T, files []tfFile, body *hclsyntax.Body) grant {
	t.Helper()
	var g grant
	if sid, ok := strs(body.Attributes["sid"]); ok {
		g.sid = sid[0]
	}
	actions, ok := strs(body.Attributes["actions"])
	if !ok {
		t.Errorf("%s: write actions as a literal list, so that they can be reviewed",
			body.SrcRange)
	}
	g.actions = actions
	g.resources = values(files, body.Attributes["resources"])
	for _, b := range body.Blocks {
		switch b.Type {
		case "condition":
			test, _ := strs(b.Body.Attributes["test"])
			g.conditions = append(g.conditions, condition{
				test:     strings.Join(test, ""),
				variable: strings.Join(values(files, b.Body.Attributes["variable"]), ""),
			})
		case "principals":
			kind, _ := strs(b.Body.Attributes["type"])
			ids := values(files, b.Body.Attributes["identifiers"])
			g.principals = append(g.principals, strings.Join(kind, "")+" "+strings.Join(ids, ","))
		}
	}
	return g
}

// TestTerraformModule checks the module's interface and its two policies:
// the access policy for least privilege, the trust policy for who may
// assume the role.
func TestTerraformModule(t *testing.T) {
	files := terraformFiles(t, "terraform")
	checkVersions(t, files)
	for _, v := range blocks(files, "variable") {
		if v.Body.Attributes["description"] == nil || v.Body.Attributes["type"] == nil {
			t.Errorf("variable %s: want a description and a type", v.Labels[0])
		}
	}
	for _, name := range []string{"name", "secret_arns", "parameter_names", "parameter_paths",
		"kms_key_arns", "ecs_tasks", "eks_oidc_provider_arn", "eks_service_accounts"} {
		oneBlock(t, files, "variable", name)
	}
	oneBlock(t, files, "output", "role_arn")

	access := oneBlock(t, files, "data", "aws_iam_policy_document", "access")
	checkLeastPrivilege(t, "terraform: access policy", statements(t, files, access))
	trust := oneBlock(t, files, "data", "aws_iam_policy_document", "trust")
	checkTrust(t, statements(t, files, trust))

	role := oneBlock(t, files, "resource", "aws_iam_role", "this")
	policy := oneBlock(t, files, "resource", "aws_iam_role_policy", "access")
	for attr, want := range map[*hclsyntax.Attribute]string{
		role.Body.Attributes["assume_role_policy"]: "data.aws_iam_policy_document.trust.json",
		policy.Body.Attributes["policy"]:           "data.aws_iam_policy_document.access.json",
	} {
		if attr == nil || text(files, attr) != want {
			t.Errorf("want the role to use %s", want)
		}
	}
}

func checkVersions(t *testing.T, files []tfFile) {
	t.Helper()
	tf := oneBlock(t, files, "terraform")
	if _, ok := strs(tf.Body.Attributes["required_version"]); !ok {
		t.Error("terraform: want required_version")
	}
	providers := child(tf.Body, "required_providers")
	if providers == nil || providers.Body.Attributes["aws"] == nil {
		t.Fatal("terraform: want required_providers.aws")
	}
	aws, diags := providers.Body.Attributes["aws"].Expr.Value(nil)
	if diags.HasErrors() || !aws.Type().IsObjectType() {
		t.Fatalf("required_providers.aws: want a literal object: %v", diags)
	}
	if src := aws.GetAttr("source"); src.AsString() != "hashicorp/aws" {
		t.Errorf("required_providers.aws.source %q", src.AsString())
	}
	// data.aws_region's region attribute is new in 6.0.
	if v := aws.GetAttr("version").AsString(); !strings.HasPrefix(v, ">= 6") {
		t.Errorf("required_providers.aws.version %q: main.tf needs >= 6.0", v)
	}
}

// checkTrust wants ECS tasks trusted only from this account, and EKS
// service accounts only by their subject and the STS audience.
func checkTrust(t *testing.T, grants []grant) {
	t.Helper()
	var ecs, eks *grant
	for i, g := range grants {
		switch {
		case slices.Equal(g.actions, []string{"sts:AssumeRole"}):
			ecs = &grants[i]
		case slices.Equal(g.actions, []string{"sts:AssumeRoleWithWebIdentity"}):
			eks = &grants[i]
		default:
			t.Errorf("trust statement %s: unexpected actions %v", g.sid, g.actions)
		}
	}
	if ecs == nil || eks == nil {
		t.Fatal("trust policy: want a statement for ECS tasks and one for EKS (IRSA)")
	}
	if !slices.Equal(ecs.principals, []string{"Service ecs-tasks.amazonaws.com"}) {
		t.Errorf("ECS trust: principals %v", ecs.principals)
	}
	for _, v := range []string{"aws:SourceAccount", "aws:SourceArn"} {
		if !ecs.hasCondition(v) {
			t.Errorf("ECS trust: want a %s condition against the confused deputy", v)
		}
	}
	if len(eks.principals) != 1 || !strings.HasPrefix(eks.principals[0], "Federated ") {
		t.Errorf("EKS trust: want the cluster's OIDC provider as the Federated principal")
	}
	for _, v := range []string{":sub", ":aud"} {
		if !eks.hasCondition(v) {
			t.Errorf("EKS trust: want a StringEquals condition on the token's %s", v)
		}
	}
}

// TestTerraformExamples checks that each example calls the module with
// arguments it declares, and with every one it requires.
func TestTerraformExamples(t *testing.T) {
	module := terraformFiles(t, "terraform")
	declared := make(map[string]bool) // name: required
	for _, v := range blocks(module, "variable") {
		declared[v.Labels[0]] = v.Body.Attributes["default"] == nil
	}
	meta := []string{"source", "version", "providers", "count", "for_each", "depends_on"}
	examples, _ := filepath.Glob("terraform/examples/*")
	if len(examples) == 0 {
		t.Fatal("no examples in terraform/examples")
	}
	for _, dir := range examples {
		calls := blocks(terraformFiles(t, dir), "module")
		if len(calls) == 0 {
			t.Errorf("%s: does not call the module", dir)
		}
		for _, call := range calls {
			checkCall(t, dir, call, declared, meta)
		}
	}
}

func checkCall(t *testing.T, dir string, call *hclsyntax.Block, declared map[string]bool,
	meta []string) {
	t.Helper()
	if src, _ := strs(call.Body.Attributes["source"]); !slices.Equal(src, []string{"../.."}) {
		t.Errorf("%s: module %s: source %v, want ../..", dir, call.Labels[0], src)
	}
	for name := range call.Body.Attributes {
		if _, ok := declared[name]; !ok && !slices.Contains(meta, name) {
			t.Errorf("%s: module %s: argument %s is not a variable of the module",
				dir, call.Labels[0], name)
		}
	}
	for name, required := range declared {
		if required && call.Body.Attributes[name] == nil {
			t.Errorf("%s: module %s: missing required argument %s", dir, call.Labels[0], name)
		}
	}
}
