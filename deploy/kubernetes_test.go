package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/envwrap/envwrap/manifest"
)

// kubernetesDoc is one YAML document of a file in kubernetes/, decoded.
type kubernetesDoc struct {
	file  string
	index int
	obj   any // *corev1.ConfigMap, *corev1.ServiceAccount or *appsv1.Deployment
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// kubernetesDocs decodes every document of every file in kubernetes/.
func kubernetesDocs(t *testing.T) []kubernetesDoc {
	t.Helper()
	var docs []kubernetesDoc
	for _, f := range filesOfKind(t, "kubernetes") {
		for i, part := range docSeparator.Split(string(readFile(t, f)), -1) {
			where := fmt.Sprintf("%s: document %d", f, i+1)
			// Strict: a key given twice is an error, not the last one winning.
			js, err := sigsyaml.YAMLToJSONStrict([]byte(part))
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if string(js) == "null" {
				continue // comments only
			}
			obj, err := decodeKubernetes(js)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			docs = append(docs, kubernetesDoc{file: f, index: i + 1, obj: obj})
		}
	}
	return docs
}

// decodeKubernetes decodes one object into its k8s.io/api type the way
// the API server's strict field validation does: field names are matched
// case-sensitively, and an unknown or repeated field is an error.
func decodeKubernetes(js []byte) (any, error) {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(js, &meta); err != nil {
		return nil, err
	}
	var obj any
	switch meta.APIVersion + " " + meta.Kind {
	case "v1 ConfigMap":
		obj = new(corev1.ConfigMap)
	case "v1 ServiceAccount":
		obj = new(corev1.ServiceAccount)
	case "apps/v1 Deployment":
		obj = new(appsv1.Deployment)
	default:
		return nil, fmt.Errorf("%s %s: not a kind these tests decode; add it to decodeKubernetes",
			meta.APIVersion, meta.Kind)
	}
	strict, err := sigsjson.UnmarshalStrict(js, obj)
	if err != nil {
		return nil, err
	}
	return obj, errors.Join(strict...)
}

// TestStrictKubernetesDecoding shows that the decoder rejects what kubectl
// with --validate=strict would: an unknown field and a miscased one.
func TestStrictKubernetesDecoding(t *testing.T) {
	for field, doc := range map[string]string{
		"unknown":  `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"datum":{}}`,
		"miscased": `{"apiVersion":"v1","kind":"ConfigMap","Metadata":{"name":"x"}}`,
		"repeated": `{"apiVersion":"v1","kind":"ConfigMap","data":{},"data":{}}`,
	} {
		if _, err := decodeKubernetes([]byte(doc)); err == nil {
			t.Errorf("a %s field was accepted: %s", field, doc)
		}
	}
}

func deployments(t *testing.T, file string) []*appsv1.Deployment {
	t.Helper()
	var out []*appsv1.Deployment
	for _, d := range kubernetesDocs(t) {
		if dep, ok := d.obj.(*appsv1.Deployment); ok && (file == "" || d.file == file) {
			out = append(out, dep)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no Deployment in %s", file)
	}
	return out
}

func deployment(t *testing.T, file string) *appsv1.Deployment {
	t.Helper()
	deps := deployments(t, file)
	if len(deps) != 1 {
		t.Fatalf("%s: want one Deployment, have %d", file, len(deps))
	}
	return deps[0]
}

func configMap(t *testing.T, namespace, name string) *corev1.ConfigMap {
	t.Helper()
	for _, d := range kubernetesDocs(t) {
		if cm, ok := d.obj.(*corev1.ConfigMap); ok && cm.Namespace == namespace && cm.Name == name {
			return cm
		}
	}
	t.Fatalf("no ConfigMap %s/%s in kubernetes/", namespace, name)
	return nil
}

// TestKubernetesObjects checks what every object must get right: its
// namespace, its service account, its selector, its volumes, and the
// security context of every container.
func TestKubernetesObjects(t *testing.T) {
	accounts := make(map[string]bool)
	for _, d := range kubernetesDocs(t) {
		if sa, ok := d.obj.(*corev1.ServiceAccount); ok {
			accounts[sa.Namespace+"/"+sa.Name] = true
		}
	}
	for _, dep := range deployments(t, "") {
		where := "Deployment " + dep.Name
		if dep.Namespace == "" {
			t.Errorf("%s: no namespace", where)
		}
		pod := &dep.Spec.Template.Spec
		if !accounts[dep.Namespace+"/"+pod.ServiceAccountName] {
			t.Errorf("%s: service account %q is not defined in kubernetes/",
				where, pod.ServiceAccountName)
		}
		for k, v := range dep.Spec.Selector.MatchLabels {
			if dep.Spec.Template.Labels[k] != v {
				t.Errorf("%s: selector %s=%s does not match the pod's labels", where, k, v)
			}
		}
		checkPodSecurity(t, where, pod)
		checkVolumes(t, where, dep.Namespace, pod)
	}
}

// checkPodSecurity wants every container non-root, on a read-only root
// file system, without privilege escalation and without capabilities.
func checkPodSecurity(t *testing.T, where string, pod *corev1.PodSpec) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil || psc.SeccompProfile == nil ||
		psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: want the pod's seccompProfile RuntimeDefault", where)
	}
	for _, c := range allContainers(pod) {
		in := fmt.Sprintf("%s: container %s", where, c.Name)
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("%s: no securityContext", in)
			continue
		}
		if !isTrue(sc.RunAsNonRoot) && (psc == nil || !isTrue(psc.RunAsNonRoot)) {
			t.Errorf("%s: want runAsNonRoot: true", in)
		}
		if uid := runAsUser(pod, c); uid == nil || *uid == 0 {
			t.Errorf("%s: want a non-zero runAsUser", in)
		}
		if !isTrue(sc.ReadOnlyRootFilesystem) {
			t.Errorf("%s: want readOnlyRootFilesystem: true", in)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: want allowPrivilegeEscalation: false", in)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") ||
			len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: want capabilities {drop: [ALL]} and nothing added", in)
		}
	}
}

// checkVolumes wants every mount to name a volume of the pod and every
// ConfigMap volume to name a ConfigMap defined in kubernetes/.
func checkVolumes(t *testing.T, where, namespace string, pod *corev1.PodSpec) {
	t.Helper()
	volumes := make(map[string]corev1.Volume)
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
		if v.ConfigMap != nil {
			configMap(t, namespace, v.ConfigMap.Name)
		}
	}
	for _, c := range allContainers(pod) {
		for _, m := range c.VolumeMounts {
			if _, ok := volumes[m.Name]; !ok {
				t.Errorf("%s: container %s mounts %s, which is not a volume of the pod",
					where, c.Name, m.Name)
			}
		}
	}
}

func allContainers(pod *corev1.PodSpec) []*corev1.Container {
	var out []*corev1.Container
	for i := range pod.InitContainers {
		out = append(out, &pod.InitContainers[i])
	}
	for i := range pod.Containers {
		out = append(out, &pod.Containers[i])
	}
	return out
}

func isTrue(b *bool) bool { return b != nil && *b }

func runAsUser(pod *corev1.PodSpec, c *corev1.Container) *int64 {
	if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
		return c.SecurityContext.RunAsUser
	}
	if pod.SecurityContext != nil {
		return pod.SecurityContext.RunAsUser
	}
	return nil
}

func argv(c *corev1.Container) []string {
	return append(slices.Clone(c.Command), c.Args...)
}

var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)

// TestServiceAccountForIRSA wants the role annotation that the EKS pod
// identity webhook reads, holding a role ARN.
func TestServiceAccountForIRSA(t *testing.T) {
	found := false
	for _, d := range kubernetesDocs(t) {
		sa, ok := d.obj.(*corev1.ServiceAccount)
		if !ok {
			continue
		}
		found = true
		arn := sa.Annotations["eks.amazonaws.com/role-arn"]
		if !roleARN.MatchString(arn) {
			t.Errorf("%s: ServiceAccount %s: eks.amazonaws.com/role-arn %q is not a role ARN",
				d.file, sa.Name, arn)
		}
	}
	if !found {
		t.Fatal("no ServiceAccount in kubernetes/")
	}
}

// manifestOf finds the envwrap manifest a container runs with: its
// --config flag, the ConfigMap mounted there, the key in it.
func manifestOf(t *testing.T, namespace string, pod *corev1.PodSpec,
	c *corev1.Container) *manifest.Manifest {
	t.Helper()
	config := configFlag(argv(c))
	if config == "" {
		t.Fatalf("container %s: no --config flag", c.Name)
	}
	for _, m := range c.VolumeMounts {
		if !under(config, m.MountPath) {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			cm := configMap(t, namespace, v.ConfigMap.Name)
			key, _ := filepath.Rel(m.MountPath, config)
			data, ok := cm.Data[key]
			if !ok {
				t.Fatalf("container %s: --config %s: ConfigMap %s has no key %s",
					c.Name, config, cm.Name, key)
			}
			name := fmt.Sprintf("ConfigMap %s key %s", cm.Name, key)
			return parseEnvwrap(t, envwrapManifest{name: name, data: []byte(data)})
		}
	}
	t.Fatalf("container %s: --config %s is not on a mounted ConfigMap", c.Name, config)
	return nil
}

// memoryMount returns where container c mounts the pod's memory-backed
// emptyDir, and the mount, failing when it does not.
func memoryMount(t *testing.T, pod *corev1.PodSpec, c *corev1.Container) corev1.VolumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.EmptyDir != nil &&
				v.EmptyDir.Medium == corev1.StorageMediumMemory {
				if v.EmptyDir.SizeLimit == nil {
					t.Errorf("volume %s: want a sizeLimit: tmpfs counts as memory", v.Name)
				}
				return m
			}
		}
	}
	t.Fatalf("container %s mounts no emptyDir with medium: Memory", c.Name)
	return corev1.VolumeMount{}
}

// checkFilesShared wants every template written inside the writer's
// memory-backed volume, and every app container to mount it read-only.
func checkFilesShared(t *testing.T, pod *corev1.PodSpec, writer *corev1.Container,
	m *manifest.Manifest) {
	t.Helper()
	out := memoryMount(t, pod, writer)
	if out.ReadOnly {
		t.Errorf("container %s mounts %s read-only and cannot write to it", writer.Name, out.Name)
	}
	if len(m.Templates) == 0 {
		t.Fatalf("container %s: its manifest renders no templates", writer.Name)
	}
	for _, tmpl := range m.Templates {
		if !under(tmpl.Destination, out.MountPath) {
			t.Errorf("template %s writes %s, outside the shared volume at %s",
				tmpl.Name(), tmpl.Destination, out.MountPath)
		}
	}
	for i := range pod.Containers {
		app := &pod.Containers[i]
		in := memoryMount(t, pod, app)
		if !in.ReadOnly {
			t.Errorf("container %s: want the secrets volume mounted readOnly", app.Name)
		}
		if uid, wuid := runAsUser(pod, app), runAsUser(pod, writer); uid == nil || wuid == nil ||
			*uid != *wuid {
			t.Errorf("container %s: want the UID of %s, which writes 0600 files for it",
				app.Name, writer.Name)
		}
	}
}

// containerPort resolves a probe's port, by number or by name.
func containerPort(t *testing.T, c *corev1.Container, p *corev1.HTTPGetAction) int {
	t.Helper()
	if p.Port.StrVal == "" {
		return int(p.Port.IntVal)
	}
	for _, port := range c.Ports {
		if port.Name == p.Port.StrVal {
			return int(port.ContainerPort)
		}
	}
	t.Fatalf("container %s: no port named %s", c.Name, p.Port.StrVal)
	return 0
}

// TestKubernetesSidecar checks the native sidecar pattern: envwrap agent
// as a restartable init container whose startup probe on /readyz holds
// the app back, rendering into a memory-backed emptyDir, signalling the
// app through a shared process namespace.
func TestKubernetesSidecar(t *testing.T) {
	dep := deployment(t, "kubernetes/sidecar.yaml")
	pod := &dep.Spec.Template.Spec
	if !isTrue(pod.ShareProcessNamespace) {
		t.Error("want shareProcessNamespace: true, so that envwrap can signal the app")
	}
	var sidecars []*corev1.Container
	for i, c := range pod.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars = append(sidecars, &pod.InitContainers[i])
		}
	}
	if len(sidecars) != 1 {
		t.Fatalf("want one init container with restartPolicy: Always, have %d", len(sidecars))
	}
	agent := sidecars[0]
	if args := argv(agent); args[len(args)-1] != "agent" {
		t.Errorf("sidecar %s: want the agent subcommand, have %q", agent.Name, args)
	}
	m := manifestOf(t, dep.Namespace, pod, agent)
	checkFilesShared(t, pod, agent, m)
	if a := agentOf(t, agent.Name, m); a.ProcessName == "" {
		t.Error("agent.notify.process_name: want the app found by name in the shared namespace")
	}
	checkSidecarProbes(t, agent, m)
}

func checkSidecarProbes(t *testing.T, agent *corev1.Container, m *manifest.Manifest) {
	t.Helper()
	host, port := healthOf(t, agent.Name, m)
	// The kubelet probes the pod IP: a loopback listener would never pass.
	if host != "0.0.0.0" && host != "::" && host != "" {
		t.Errorf("health.listen host %q: the kubelet's httpGet cannot reach it", host)
	}
	for probe, want := range map[*corev1.Probe]string{
		agent.StartupProbe:  "/readyz",
		agent.LivenessProbe: "/livez",
	} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("sidecar %s: want an httpGet probe on %s", agent.Name, want)
			continue
		}
		if probe.HTTPGet.Path != want {
			t.Errorf("sidecar %s: probe path %s, want %s", agent.Name, probe.HTTPGet.Path, want)
		}
		if p := containerPort(t, agent, probe.HTTPGet); p != port {
			t.Errorf("sidecar %s: probe on port %d, health.listen on %d", agent.Name, p, port)
		}
	}
}

// TestKubernetesRenderInit checks the init container pattern: envwrap
// render runs to completion before the app and writes to a memory-backed
// emptyDir that the app mounts read-only.
func TestKubernetesRenderInit(t *testing.T) {
	dep := deployment(t, "kubernetes/render-init.yaml")
	pod := &dep.Spec.Template.Spec
	if len(pod.InitContainers) != 1 {
		t.Fatalf("want one init container, have %d", len(pod.InitContainers))
	}
	init := &pod.InitContainers[0]
	if init.RestartPolicy != nil {
		t.Errorf("init container %s: restartPolicy makes it a sidecar; render must run once",
			init.Name)
	}
	if args := argv(init); args[len(args)-1] != "render" {
		t.Errorf("init container %s: want the render subcommand, have %q", init.Name, args)
	}
	m := manifestOf(t, dep.Namespace, pod, init)
	// render writes the files once and exits: it notifies nothing and
	// serves no health listener, so these sections would mislead.
	if m.Agent != nil || m.Health.Listen != "" {
		t.Errorf("init container %s: render ignores the manifest's agent: and health: "+
			"sections; leave them out", init.Name)
	}
	checkFilesShared(t, pod, init, m)
}

// TestKubernetesWrapper checks the entrypoint pattern: envwrap in front of
// the app's argv, and a stop timeout that ends before the kubelet's.
func TestKubernetesWrapper(t *testing.T) {
	dep := deployment(t, "kubernetes/wrapper.yaml")
	pod := &dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, have %d", len(pod.Containers))
	}
	c := &pod.Containers[0]
	if len(c.Command) == 0 || c.Command[0] != "/envwrap" || c.Command[len(c.Command)-1] != "--" {
		t.Errorf("container %s: want command [/envwrap, flags..., --], have %q", c.Name, c.Command)
	}
	if len(c.Args) == 0 {
		t.Errorf("container %s: no args: envwrap has no program to run", c.Name)
	}
	m := manifestOf(t, dep.Namespace, pod, c)
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.TerminationGracePeriodSeconds != nil {
		grace = *pod.TerminationGracePeriodSeconds
	}
	if m.Process.StopTimeout.Seconds() >= float64(grace) {
		t.Errorf("process.stop_timeout %v is not below terminationGracePeriodSeconds %d: "+
			"the kubelet would kill envwrap before envwrap kills the app",
			m.Process.StopTimeout, grace)
	}
	if strings.Contains(c.Image, "envwrap") {
		t.Errorf("container %s: the wrapper runs the app's image, not envwrap's", c.Name)
	}
}
