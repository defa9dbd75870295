package deploy_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/appgen/appgen/deploy"
)

// manifests splits the kubernetes target's output into its documents and decodes each
// strictly into its Kubernetes API type: an unknown or misspelled field, a duplicate key or
// a value of the wrong type fails.
type manifests struct {
	configMap  *corev1.ConfigMap
	deployment *appsv1.Deployment
	service    *corev1.Service
}

func decodeManifests(t *testing.T, text string) manifests {
	t.Helper()
	var m manifests
	docs := strings.Split(text, "\n---\n")
	for i, doc := range docs[1:] { // docs[0] is the header comment
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("document %d: %v\n%s", i+1, err, doc)
		}
		var into any
		switch meta.APIVersion + " " + meta.Kind {
		case "v1 ConfigMap":
			m.configMap = &corev1.ConfigMap{}
			into = m.configMap
		case "apps/v1 Deployment":
			m.deployment = &appsv1.Deployment{}
			into = m.deployment
		case "v1 Service":
			m.service = &corev1.Service{}
			into = m.service
		default:
			t.Fatalf("document %d: unexpected %s %s", i+1, meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			t.Fatalf("document %d (%s) does not decode strictly: %v\n%s", i+1, meta.Kind, err, doc)
		}
	}
	if m.deployment == nil || m.service == nil {
		t.Fatalf("want a Deployment and a Service, got %+v", m)
	}
	return m
}

// TestStrictDecodingCatchesMisspelling pins that the decoding the manifest tests rely on
// refuses a misspelled field (a probe that Kubernetes would silently drop).
func TestStrictDecodingCatchesMisspelling(t *testing.T) {
	text, err := deploy.Render(deploy.Options{Target: "kubernetes"})
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(text), "readinessProbe:", "readynessProbe:", 1)
	doc := strings.Split(bad, "\n---\n")[2]
	if err := yaml.UnmarshalStrict([]byte(doc), &appsv1.Deployment{}); err == nil {
		t.Fatal("a misspelled readinessProbe decoded without error")
	}
}

func TestKubernetesManifests(t *testing.T) {
	tests := []struct {
		name string
		o    deploy.Options
	}{
		{"default", deploy.Options{Target: "kubernetes"}},
		{"server names and prefix", deploy.Options{Target: "kubernetes", ServerNames: []string{"example.com", "*.example.org"}, Prefix: "/app"}},
		{"scgi", deploy.Options{Target: "kubernetes", Protocol: "scgi", Backends: []deploy.Backend{deploy.Unix("/run/sock/app.sock")}}},
		{"pinned images", deploy.Options{Target: "kubernetes", Image: "registry.example.com:5000/team/mysite:1.2.0@sha256:" + strings.Repeat("ab", 32),
			WebImage: "registry.example.com:5000/team/mysite-web:1.2.0"}},
		{"http for an ingress", deploy.Options{Target: "kubernetes", Protocol: "http", ServerNames: []string{"example.com"}}},
		{"http on a port", deploy.Options{Target: "kubernetes", Protocol: "http", Backends: []deploy.Backend{deploy.TCP("127.0.0.1", 8080)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := deploy.Render(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			m := decodeManifests(t, string(text))
			checkDeployment(t, tt.o, m)
		})
	}
}

// TestKubernetesGoldensDecode decodes every variant kept in the golden file (each command
// line `appgen config kubernetes` is shown with) strictly, and checks how its parts refer to
// each other.
func TestKubernetesGoldensDecode(t *testing.T) {
	ar, err := txtar.ParseFile("../golden/testdata/config/kubernetes.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(ar.Files) < 5 {
		t.Fatalf("%d variants in the golden file, want every protocol and the image flags", len(ar.Files))
	}
	for _, f := range ar.Files {
		t.Run(f.Name, func(t *testing.T) {
			m := decodeManifests(t, string(f.Data))
			o := deploy.Options{}
			app := container(t, m.deployment.Spec.Template.Spec, "app")
			if app.Args[0] == "runserver" {
				o.Protocol = "http"
			}
			o.Image = app.Image
			if m.configMap != nil {
				o.WebImage = container(t, m.deployment.Spec.Template.Spec, "nginx").Image
			}
			checkDeployment(t, o, m)
		})
	}
}

// checkDeployment checks what the types alone cannot: that the parts refer to each other.
func checkDeployment(t *testing.T, o deploy.Options, m manifests) {
	t.Helper()
	d := m.deployment
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas = %v, want at least 2", d.Spec.Replicas)
	}
	labels := d.Spec.Template.Labels
	for k, v := range d.Spec.Selector.MatchLabels {
		if labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod labels %v", k, v, labels)
		}
	}
	for k, v := range m.service.Spec.Selector {
		if labels[k] != v {
			t.Errorf("the Service selects %s=%s, not in the pod labels %v", k, v, labels)
		}
	}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("strategy = %+v, want RollingUpdate with maxUnavailable 0", d.Spec.Strategy)
	}
	pod := d.Spec.Template.Spec
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("pod securityContext %+v, want runAsNonRoot", pod.SecurityContext)
	}
	app := container(t, pod, "app")
	if app.Image != imageOr(o.Image, "mysite:latest") {
		t.Errorf("app image %q", app.Image)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("container %s securityContext %+v, want a read-only root, no privilege escalation, all capabilities dropped", c.Name, sc)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("container %s resources %+v, want cpu and memory requests and a memory limit", c.Name, c.Resources)
		}
		if c.ReadinessProbe == nil || c.LivenessProbe == nil {
			t.Errorf("container %s has no readiness or liveness probe", c.Name)
		}
		for _, m := range c.VolumeMounts {
			if !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name }) {
				t.Errorf("container %s mounts volume %s, which the pod does not have", c.Name, m.Name)
			}
		}
	}
	for _, v := range pod.Volumes {
		if v.EmptyDir == nil && v.ConfigMap == nil {
			t.Errorf("volume %s is neither an emptyDir nor a ConfigMap", v.Name)
		}
	}
	// The secret key comes from a Secret, never from a literal.
	var secret *corev1.EnvVar
	for i, e := range app.Env {
		if e.Name == "APPGEN_SECRET_KEY" {
			secret = &app.Env[i]
		}
	}
	if secret == nil || secret.Value != "" || secret.ValueFrom == nil || secret.ValueFrom.SecretKeyRef == nil {
		t.Errorf("APPGEN_SECRET_KEY = %+v, want a secretKeyRef", secret)
	}
	// The drain fits in the grace period: preStop, then a drain bounded by timeout=.
	grace := *pod.TerminationGracePeriodSeconds
	pre := app.Lifecycle.PreStop
	if pre == nil || pre.Sleep == nil {
		t.Fatalf("app preStop = %+v, want a sleep", pre)
	}
	timeout := argValue(app.Args, "timeout=")
	if o.Protocol == "http" {
		timeout = "0s"
	}
	var secs int64
	if _, err := fmt.Sscanf(timeout, "%ds", &secs); err != nil {
		t.Fatalf("timeout= %q: %v", timeout, err)
	}
	if pre.Sleep.Seconds+secs >= grace {
		t.Errorf("preStop %d s + request timeout %d s >= terminationGracePeriodSeconds %d: a drain would be killed", pre.Sleep.Seconds, secs, grace)
	}

	svcPort := m.service.Spec.Ports[0].TargetPort
	// The probes hit the admin port the app really listens on: runfcgi's admin=, or
	// runserver's --admin.
	admin := argValue(app.Args, "admin=")
	if o.Protocol == "http" {
		if i := slices.Index(app.Args, "--admin"); i >= 0 && i+1 < len(app.Args) {
			admin = app.Args[i+1]
		}
	}
	if admin == "" {
		t.Errorf("args %q open no admin listener", app.Args)
	}
	for name, p := range map[string]*corev1.Probe{"/readyz": app.ReadinessProbe, "/healthz": app.LivenessProbe} {
		if p.HTTPGet == nil || p.HTTPGet.Path != name {
			t.Errorf("probe %+v, want GET %s", p, name)
			continue
		}
		checkNamedPort(t, app, p.HTTPGet.Port, strings.TrimPrefix(admin, "0.0.0.0:"))
	}
	if o.Protocol == "http" {
		if len(pod.Containers) != 1 || m.configMap != nil {
			t.Errorf("http: want the app alone, got %d containers, ConfigMap %v", len(pod.Containers), m.configMap != nil)
		}
		if app.Args[0] != "runserver" || !slices.Contains(app.Args, "--noreload") {
			t.Errorf("http: args %q, want runserver --noreload", app.Args)
		}
		// The site's address is runserver's last argument; --admin's value comes before it.
		checkNamedPort(t, app, svcPort, strings.TrimPrefix(app.Args[len(app.Args)-1], "0.0.0.0:"))
		return
	}
	// nginx's socket is the app's, on a volume both mount at its directory.
	nginx := container(t, pod, "nginx")
	socket := argValue(app.Args, "socket=")
	if m.configMap == nil {
		t.Fatal("no ConfigMap for the nginx site")
	}
	site := m.configMap.Data["site.conf"]
	// The site's comment names the group that may open the socket: the pod's, which nginx
	// joins, not the www-data the nginx target defaults to (it did, until the group was passed).
	if group := fmt.Sprintf("web server's group (%d)", *pod.SecurityContext.RunAsGroup); !strings.Contains(site, group) ||
		!slices.Contains(pod.SecurityContext.SupplementalGroups, *pod.SecurityContext.RunAsGroup) {
		t.Errorf("the nginx site's comment does not name the pod's group, or nginx does not join it: want %q in\n%s", group, site)
	}
	if !strings.Contains(site, `server "unix:`+socket+`";`) {
		t.Errorf("the nginx site does not reach the app's socket %s:\n%s", socket, site)
	}
	dir := socket[:strings.LastIndexByte(socket, '/')]
	appVol, nginxVol := mountAt(app, dir), mountAt(nginx, dir)
	if appVol == "" || appVol != nginxVol {
		t.Errorf("socket directory %s: app mounts %q, nginx %q; want one shared volume", dir, appVol, nginxVol)
	}
	if mountAt(nginx, "/etc/nginx/conf.d") == "" {
		t.Error("nginx does not mount its site at /etc/nginx/conf.d")
	}
	checkNamedPort(t, nginx, svcPort, "8080")
	if !strings.Contains(site, `listen "8080";`) {
		t.Errorf("the nginx site does not listen on the container's port 8080:\n%s", site)
	}
	if nginx.Image != imageOr(o.WebImage, "mysite-web:latest") {
		t.Errorf("nginx image %q", nginx.Image)
	}
}

func imageOr(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

func container(t *testing.T, pod corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range pod.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

func argValue(args []string, prefix string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, prefix); ok {
			return v
		}
	}
	return ""
}

func mountAt(c corev1.Container, path string) string {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return m.Name
		}
	}
	return ""
}

// checkNamedPort checks that port (a name or a number) is one c declares, with the number want.
func checkNamedPort(t *testing.T, c corev1.Container, port intstr.IntOrString, want string) {
	t.Helper()
	for _, p := range c.Ports {
		if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			if fmt.Sprint(p.ContainerPort) != want {
				t.Errorf("container %s port %s is %d, but the process listens on %s", c.Name, port.String(), p.ContainerPort, want)
			}
			return
		}
	}
	t.Errorf("container %s declares no port %s", c.Name, port.String())
}
