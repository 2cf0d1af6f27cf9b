package deploy

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/envwrap/envwrap/manifest"
	"github.com/envwrap/envwrap/render"
)

// envwrapManifest is one envwrap manifest found under deploy/.
type envwrapManifest struct {
	name  string            // for messages; also the file name given to Parse
	data  []byte            //
	files map[string]string // files beside it, by name: its ConfigMap, or its directory
}

// envwrapManifests finds every envwrap manifest under deploy/: the files
// named *.envwrap.yaml and every *.yaml key of a Kubernetes ConfigMap.
func envwrapManifests(t *testing.T) []envwrapManifest {
	t.Helper()
	var out []envwrapManifest
	for _, f := range filesOfKind(t, "envwrap manifest") {
		beside := make(map[string]string)
		entries, err := os.ReadDir(filepath.Dir(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				beside[e.Name()] = string(readFile(t, filepath.Join(filepath.Dir(f), e.Name())))
			}
		}
		out = append(out, envwrapManifest{name: f, data: readFile(t, f), files: beside})
	}
	for _, d := range kubernetesDocs(t) {
		cm, ok := d.obj.(*corev1.ConfigMap)
		if !ok {
			continue
		}
		for key, data := range cm.Data {
			if strings.HasSuffix(key, ".yaml") {
				out = append(out, configMapManifest(d, cm, key, data))
			}
		}
	}
	return out
}

func configMapManifest(d kubernetesDoc, cm *corev1.ConfigMap, key, data string) envwrapManifest {
	return envwrapManifest{
		name:  fmt.Sprintf("%s(%s)/%s", d.file, cm.Name, key),
		data:  []byte(data),
		files: cm.Data,
	}
}

// parseEnvwrap validates a manifest with manifest.Parse, every section
// included, and returns it.
func parseEnvwrap(t *testing.T, m envwrapManifest) *manifest.Manifest {
	t.Helper()
	parsed, err := manifest.Parse(m.name, m.data)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

// TestEnvwrapManifests validates every envwrap manifest under deploy/ with
// manifest.Parse, and checks that each template it names ships beside it
// and parses with the render package.
func TestEnvwrapManifests(t *testing.T) {
	for _, m := range envwrapManifests(t) {
		t.Run(m.name, func(t *testing.T) {
			for _, tmpl := range parseEnvwrap(t, m).Templates {
				checkTemplate(t, m, tmpl)
			}
		})
	}
}

// checkTemplate wants a template's source shipped beside the manifest (in
// its ConfigMap, or copied into the image from its directory), and its text
// to parse: syntax, and functions the render package has.
func checkTemplate(t *testing.T, m envwrapManifest, tmpl manifest.Template) {
	t.Helper()
	text := tmpl.Contents
	if tmpl.Source != "" {
		var ok bool
		if text, ok = m.files[filepath.Base(tmpl.Source)]; !ok {
			t.Errorf("%s: template source %s is not shipped beside the manifest",
				m.name, tmpl.Source)
			return
		}
	}
	spec := render.Spec{Name: tmpl.Name(), Contents: text, Destination: tmpl.Destination}
	if _, err := render.Parse(spec); err != nil {
		t.Errorf("%s: %v", m.name, err)
	}
}

// agentOf returns a manifest's agent section, failing the test when it
// has none.
func agentOf(t *testing.T, name string, m *manifest.Manifest) *manifest.Agent {
	t.Helper()
	if m.Agent == nil {
		t.Fatalf("%s: has no agent: section", name)
	}
	return m.Agent
}

// healthOf returns the host and port a manifest's health listener binds,
// failing the test when it has none.
func healthOf(t *testing.T, name string, m *manifest.Manifest) (string, int) {
	t.Helper()
	if m.Health.Listen == "" {
		t.Fatalf("%s: has no health: section", name)
	}
	host, port, err := net.SplitHostPort(m.Health.Listen)
	if err != nil {
		t.Fatalf("%s: health.listen: %v", name, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 {
		t.Fatalf("%s: health.listen %q: want a fixed port for the probes to name",
			name, m.Health.Listen)
	}
	return host, n
}

// TestEnvwrapCheck runs `envwrap check`, built with the Dockerfile's
// command, on every envwrap manifest under deploy/ and wants exit status 0.
// It runs without --resolve, so nothing is fetched: AWS_ENDPOINT_URL points
// at a server on 127.0.0.1 that fails the test if any request reaches it.
func TestEnvwrapCheck(t *testing.T) {
	bin, _ := buildImageBinary(t, "v0.0.0-deploytest")
	var calls atomic.Int32
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "envwrap check must not call AWS", http.StatusForbidden)
	}))
	defer trap.Close()

	for _, m := range envwrapManifests(t) {
		t.Run(m.name, func(t *testing.T) {
			config := stageManifest(t, m)
			cmd := exec.CommandContext(t.Context(), bin, "--config="+config, "check")
			cmd.Dir = filepath.Dir(config)
			cmd.Env = offlineEnv(filepath.Dir(config), trap.URL)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("envwrap check: %v\n%s%s", err, out, stderr.Bytes())
			}
			if !strings.Contains(string(out), ": valid, ") {
				t.Errorf("envwrap check printed %q, want the manifest reported valid", out)
			}
		})
	}
	if n := calls.Load(); n > 0 {
		t.Errorf("envwrap check without --resolve sent %d requests to the AWS endpoint", n)
	}
}

// stageManifest writes a manifest and the templates it names into a new
// directory, as a container would see them, and returns the manifest's
// path. The template sources are absolute paths inside the container
// (/etc/envwrap/app.conf.tmpl); each copy lands in the new directory, and
// the manifest's text is rewritten to name the copy. A relative source
// needs no rewriting: it resolves beside the manifest, where the copy is.
func stageManifest(t *testing.T, m envwrapManifest) string {
	t.Helper()
	dir := t.TempDir()
	data := m.data
	for _, tmpl := range parseEnvwrap(t, m).Templates {
		if tmpl.Source == "" {
			continue
		}
		base := filepath.Base(tmpl.Source)
		text, ok := m.files[base]
		if !ok {
			t.Fatalf("%s: template source %s is not shipped beside the manifest",
				m.name, tmpl.Source)
		}
		copied := filepath.Join(dir, base)
		if err := os.WriteFile(copied, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte(tmpl.Source), []byte(copied))
	}
	config := filepath.Join(dir, "envwrap.yaml")
	if err := os.WriteFile(config, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return config
}

// offlineEnv is the environment of a check: a region, static dummy
// credentials and no instance metadata, so that the AWS SDK would look
// nowhere for credentials, no shared config files, and every AWS endpoint
// replaced by endpoint.
func offlineEnv(home, endpoint string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_REGION=eu-west-1",
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=not-a-secret",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-aws-credentials"),
		"AWS_ENDPOINT_URL=" + endpoint,
	}
}
