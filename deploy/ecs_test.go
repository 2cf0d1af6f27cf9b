package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/envwrap/envwrap/manifest"
)

// decodeTaskDefinition reads a task definition file as what
// `aws ecs register-task-definition --cli-input-json` takes: the SDK's
// RegisterTaskDefinitionInput. The SDK types carry no JSON tags, so
// encoding/json matches their field names without regard to case; keyCase
// then holds every key to the API's exact spelling, lower camel case.
func decodeTaskDefinition(data []byte) (*ecs.RegisterTaskDefinitionInput, error) {
	var in ecs.RegisterTaskDefinitionInput
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the task definition")
	}
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if err := keyCase(raw, reflect.TypeFor[ecs.RegisterTaskDefinitionInput](), ""); err != nil {
		return nil, err
	}
	return &in, nil
}

// keyCase checks that every key of an object decoded into a struct is
// the struct field's name with its first letter lowered, as in the API.
// Keys of maps (log options, labels) are free.
func keyCase(v any, typ reflect.Type, path string) error {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch v := v.(type) {
	case map[string]any:
		for key, sub := range v {
			elem, err := valueType(typ, key, path)
			if err != nil {
				return err
			}
			if err := keyCase(sub, elem, path+"."+key); err != nil {
				return err
			}
		}
	case []any:
		for i, sub := range v {
			if err := keyCase(sub, typ.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// valueType is the type of the value under key: a struct's field, found
// by the API's spelling of its name, or a map's element.
func valueType(typ reflect.Type, key, path string) (reflect.Type, error) {
	if typ.Kind() == reflect.Map {
		return typ.Elem(), nil
	}
	first, size := utf8.DecodeRuneInString(key)
	f, ok := typ.FieldByName(string(unicode.ToUpper(first)) + key[size:])
	if !ok || !unicode.IsLower(first) {
		return nil, fmt.Errorf("%s.%s: not a field of %s as the API spells it",
			path, key, typ.Name())
	}
	return f.Type, nil
}

// TestStrictTaskDefinitionDecoding shows that the decoder rejects an
// unknown field and a field spelt in another case.
func TestStrictTaskDefinitionDecoding(t *testing.T) {
	for _, doc := range []string{
		`{"family": "x", "containerDefinitons": []}`,
		`{"family": "x", "ContainerDefinitions": []}`,
		`{"family": "x", "containerDefinitions": [{"name": "a", "readOnlyRootFilesystem": true}]}`,
	} {
		if _, err := decodeTaskDefinition([]byte(doc)); err == nil {
			t.Errorf("accepted %s", doc)
		}
	}
	ok := `{"family": "x", "containerDefinitions": [{"name": "a",
		"logConfiguration": {"logDriver": "awslogs", "options": {"Awslogs-Group": "g"}}}]}`
	if _, err := decodeTaskDefinition([]byte(ok)); err != nil {
		t.Errorf("rejected free-form map keys: %v", err)
	}
}

func taskDefinition(t *testing.T, file string) *ecs.RegisterTaskDefinitionInput {
	t.Helper()
	td, err := decodeTaskDefinition(readFile(t, file))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return td
}

func container(t *testing.T, td *ecs.RegisterTaskDefinitionInput,
	name string) *types.ContainerDefinition {
	t.Helper()
	for i := range td.ContainerDefinitions {
		if deref(td.ContainerDefinitions[i].Name) == name {
			return &td.ContainerDefinitions[i]
		}
	}
	t.Fatalf("task definition %s: no container %s", deref(td.Family), name)
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestECSTaskDefinitions checks what both task definitions must get right:
// Fargate settings, a task role, and containers that run as a non-root
// user on a read-only root file system without capabilities.
func TestECSTaskDefinitions(t *testing.T) {
	for _, f := range filesOfKind(t, "ecs task definition") {
		td := taskDefinition(t, f)
		if !roleARN.MatchString(deref(td.TaskRoleArn)) {
			t.Errorf("%s: taskRoleArn %q: want the role envwrap fetches with", f,
				deref(td.TaskRoleArn))
		}
		if !slices.Contains(td.RequiresCompatibilities, types.CompatibilityFargate) ||
			td.NetworkMode != types.NetworkModeAwsvpc || td.Cpu == nil || td.Memory == nil {
			t.Errorf("%s: want FARGATE with awsvpc networking and task cpu and memory", f)
		}
		for _, c := range td.ContainerDefinitions {
			checkECSContainer(t, f, &c)
		}
	}
}

func checkECSContainer(t *testing.T, file string, c *types.ContainerDefinition) {
	t.Helper()
	in := fmt.Sprintf("%s: container %s", file, deref(c.Name))
	if uid, _, _ := strings.Cut(deref(c.User), ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("%s: user %q: want a non-root UID", in, deref(c.User))
	}
	if !deref(c.ReadonlyRootFilesystem) {
		t.Errorf("%s: want readonlyRootFilesystem: true", in)
	}
	lp := c.LinuxParameters
	if lp == nil || lp.Capabilities == nil || !slices.Contains(lp.Capabilities.Drop, "ALL") ||
		len(lp.Capabilities.Add) > 0 {
		t.Errorf("%s: want linuxParameters.capabilities {drop: [ALL]} and nothing added", in)
	}
	if c.Essential == nil {
		t.Errorf("%s: say whether the container is essential", in)
	}
}

// ecsManifest reads the envwrap manifest a container runs with: the file
// that dockerfile copies to the container's --config path.
func ecsManifest(t *testing.T, dockerfile string, argv []string) *manifest.Manifest {
	t.Helper()
	config := configFlag(argv)
	src := copiedTo(t, dockerfile, config)
	if src == "" {
		t.Fatalf("%s copies nothing to --config %s", dockerfile, config)
	}
	return parseEnvwrap(t, envwrapManifest{name: src, data: readFile(t, src)})
}

// TestECSWrapper checks the entrypoint pattern: envwrap in front of the
// app, with a stop timeout that ends before the ECS agent's.
func TestECSWrapper(t *testing.T) {
	td := taskDefinition(t, "ecs/wrapper.task-definition.json")
	c := container(t, td, "api")
	ep := c.EntryPoint
	if len(ep) == 0 || ep[0] != "/envwrap" || ep[len(ep)-1] != "--" || len(c.Command) == 0 {
		t.Errorf("want entryPoint [/envwrap, flags..., --] and the app as command, have %q %q",
			ep, c.Command)
	}
	// envwrap is the init process; a second one in front of it is noise.
	if c.LinuxParameters != nil && deref(c.LinuxParameters.InitProcessEnabled) {
		t.Error("initProcessEnabled: envwrap reaps orphans itself")
	}
	m := ecsManifest(t, "ecs/app.Dockerfile", ep)
	if c.StopTimeout == nil || float64(*c.StopTimeout) <= m.Process.StopTimeout.Seconds() {
		t.Errorf("stopTimeout %v: want it above process.stop_timeout %v, so that envwrap, "+
			"not the ECS agent, escalates to SIGKILL", deref(c.StopTimeout), m.Process.StopTimeout)
	}
}

// TestECSSidecar checks the sidecar pattern: envwrap agent renders into a
// task volume, reports HEALTHY once it has, and the app starts after it
// and reads the volume read-only, in one process namespace.
func TestECSSidecar(t *testing.T) {
	td := taskDefinition(t, "ecs/sidecar.task-definition.json")
	if td.PidMode != types.PidModeTask {
		t.Errorf("pidMode %q: want task, so that envwrap can find and signal the app", td.PidMode)
	}
	agent, app := container(t, td, "envwrap"), container(t, td, "api")
	if args := agent.Command; len(args) == 0 || args[len(args)-1] != "agent" {
		t.Errorf("envwrap: want the agent subcommand, have %q", args)
	}
	if !dependsHealthy(app, deref(agent.Name)) {
		t.Errorf("api: want dependsOn envwrap with condition HEALTHY")
	}
	m := ecsManifest(t, "ecs/agent.Dockerfile", agent.Command)
	checkHealthCheck(t, agent, m)
	if deref(agent.User) != deref(app.User) {
		t.Errorf("envwrap runs as %q, api as %q: without CAP_KILL one UID may signal only its "+
			"own, and the 0600 files are for that UID", deref(agent.User), deref(app.User))
	}
	if a := agentOf(t, "envwrap", m); a.ProcessName == "" && a.PIDFile == "" {
		t.Error("agent.notify: name the app to signal")
	}
	checkTaskVolume(t, td, agent, app, m)
}

func dependsHealthy(c *types.ContainerDefinition, on string) bool {
	for _, d := range c.DependsOn {
		if deref(d.ContainerName) == on && d.Condition == types.ContainerConditionHealthy {
			return true
		}
	}
	return false
}

// checkHealthCheck wants the container's health check to probe /readyz on
// the port the manifest's health listener binds. HEALTHY needs it. The
// check runs inside the distroless image, which has no shell and no curl,
// so it runs `envwrap probe URL`, which exits 0 on a 2xx answer within
// five seconds and 1 otherwise.
func checkHealthCheck(t *testing.T, agent *types.ContainerDefinition, m *manifest.Manifest) {
	t.Helper()
	hc := agent.HealthCheck
	if hc == nil || len(hc.Command) < 2 || hc.Command[0] != "CMD" {
		t.Fatal("envwrap: want a healthCheck in exec form, [CMD, ...]: the image has no shell")
	}
	if len(hc.Command) != 4 || hc.Command[1] != "/envwrap" || hc.Command[2] != "probe" {
		t.Errorf("envwrap: healthCheck %q: want [CMD, /envwrap, probe, URL]; "+
			"the image holds only /envwrap", hc.Command)
	}
	host, port := healthOf(t, "envwrap", m)
	var probe *url.URL
	for _, arg := range hc.Command {
		if u, err := url.Parse(arg); err == nil && u.Scheme == "http" {
			probe = u
		}
	}
	if probe == nil || probe.Path != "/readyz" || probe.Hostname() != host ||
		probe.Port() != strconv.Itoa(port) {
		t.Errorf("envwrap: healthCheck %q: want http://%s:%d/readyz, where health.listen is",
			hc.Command, host, port)
	}
	if hc.StartPeriod == nil {
		t.Error("envwrap: want a healthCheck startPeriod covering the first fetch")
	}
}

// checkTaskVolume wants the templates written inside a task volume that
// the agent mounts read-write and the app read-only.
func checkTaskVolume(t *testing.T, td *ecs.RegisterTaskDefinitionInput,
	agent, app *types.ContainerDefinition, m *manifest.Manifest) {
	t.Helper()
	if len(agent.MountPoints) != 1 || len(app.MountPoints) != 1 {
		t.Fatal("want envwrap and api to mount one volume each")
	}
	out, in := agent.MountPoints[0], app.MountPoints[0]
	if deref(out.SourceVolume) != deref(in.SourceVolume) || deref(out.ReadOnly) ||
		!deref(in.ReadOnly) {
		t.Errorf("want one volume, read-write for envwrap and readOnly for api")
	}
	for _, v := range td.Volumes {
		shared := deref(v.Name) == deref(out.SourceVolume)
		if shared && (v.Host != nil || v.EfsVolumeConfiguration != nil) {
			t.Errorf("volume %s: want a task-scoped bind mount, not host or EFS storage", *v.Name)
		}
	}
	for _, tmpl := range m.Templates {
		if !under(tmpl.Destination, deref(out.ContainerPath)) {
			t.Errorf("template %s writes %s, outside the shared volume at %s",
				tmpl.Name(), tmpl.Destination, deref(out.ContainerPath))
		}
	}
}
