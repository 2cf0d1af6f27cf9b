// Command demo shows envwrap's main job on real input: it starts the AWS
// emulator on 127.0.0.1, stores a few secrets in Secrets Manager and
// Parameter Store, builds envwrap, and runs it around a small program that
// lists the variables it received, with their values masked.
//
//	go run ./demo
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/sivchari/kumo"
)

const manifest = `version: 1
aws:
  region: us-east-1
  endpoint: %s        # the local emulator; leave out for real AWS
secrets:
  - from: aws-sm://demo/db              # a JSON secret: pick two keys
    env: {DB_USER: username, DB_PASSWORD: password}
  - from: aws-sm://demo/api-token
    env: API_TOKEN
  - from: ssm:///demo/app/              # every parameter under the path
    prefix: APP_
environment:
  inherit: false                        # the program gets the secrets alone
`

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-report" {
		report()
		return
	}
	code, err := demo(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func demo(ctx context.Context) (int, error) {
	srv := kumo.NewServer()
	defer srv.Close()
	fmt.Printf("AWS emulator listening on %s\n", srv.URL)
	if err := seed(ctx, srv.URL); err != nil {
		return 0, fmt.Errorf("storing the demo secrets: %w", err)
	}
	dir, err := os.MkdirTemp("", "envwrap-demo-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "envwrap")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/envwrap")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("building envwrap (run the demo from the repository root): %w", err)
	}
	cfg := filepath.Join(dir, "envwrap.yaml")
	body := fmt.Sprintf(manifest, srv.URL)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return 0, err
	}
	fmt.Printf("\nmanifest %s:\n%s\n", cfg, body)
	return runEnvwrap(ctx, bin, cfg)
}

func runEnvwrap(ctx context.Context, bin, cfg string) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	fmt.Println("$ envwrap -c envwrap.yaml -- report")
	cmd := exec.CommandContext(ctx, bin, "-c", cfg, "--", self, "-report")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The demo's own AWS settings: nothing from the user's profile or
	// credentials may steer it away from the local emulator.
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID=demo", "AWS_SECRET_ACCESS_KEY=demo", "AWS_SESSION_TOKEN=",
		"AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true")
	err = cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), nil
	}
	return 0, err
}

// seed stores the demo's secrets in the emulator.
func seed(ctx context.Context, url string) error {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("demo", "demo", ""),
	}
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(url)
	})
	ps := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(url) })
	secrets := map[string]string{
		"demo/db":        `{"username":"app","password":"correct-horse-battery"}`,
		"demo/api-token": "tok_live_4f9a2c7e",
	}
	for name, value := range secrets {
		_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			return err
		}
	}
	params := []ssmtypes.Parameter{
		{Name: aws.String("/demo/app/log_level"), Value: aws.String("debug"),
			Type: ssmtypes.ParameterTypeString},
		{Name: aws.String("/demo/app/signing_key"), Value: aws.String("k3y-9b1d"),
			Type: ssmtypes.ParameterTypeSecureString},
		{Name: aws.String("/demo/app/regions"), Value: aws.String("eu-west-1,us-east-1"),
			Type: ssmtypes.ParameterTypeStringList},
	}
	for _, p := range params {
		_, err := ps.PutParameter(ctx, &ssm.PutParameterInput{
			Name: p.Name, Value: p.Value, Type: p.Type})
		if err != nil {
			return err
		}
	}
	return nil
}

// report is the wrapped program: it lists the variables that envwrap
// added, masking all but their first two characters.
func report() {
	var lines []string
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		lines = append(lines, fmt.Sprintf("  %-16s %s", name, mask(value)))
	}
	sort.Strings(lines)
	fmt.Printf("\nthe wrapped program received %d secrets:\n%s\n",
		len(lines), strings.Join(lines, "\n"))
}

func mask(v string) string {
	r := []rune(v)
	if len(r) <= 2 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:2]) + strings.Repeat("*", len(r)-2) + fmt.Sprintf("  (%d chars)", len(r))
}
