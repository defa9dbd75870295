package deploy

import (
	"path"
	"strconv"
	"strings"
)

// The kubernetes target: a Deployment of two or more pods with probes on runfcgi's admin
// port, a rolling update that never drops below the wanted replicas and drains each pod
// before it stops, and a Service. The front end is the protocol: fcgi or scgi put an nginx
// sidecar in each pod, speaking that protocol to the app over a unix socket in a shared
// emptyDir (its site is the nginx target's output, in a ConfigMap); http serves the app's
// runserver to the cluster's ingress directly.
var kubernetesTarget = &target{name: "kubernetes", summary: "Deployment + Service: nginx sidecar over a shared unix socket (or --protocol http for an ingress), probes, drains",
	protocols: []string{"fcgi", "scgi", "http"}, usesBackends: true, oneBackend: true, template: "kubernetes.yaml.tmpl",
	syntax: syntaxYAML, fields: fieldList(baseFields, backendFields, []string{"ServerNames", "Prefix", "StaticURL", "StaticRoot", "DocumentRoot", "Image", "WebImage"}),
	onRequest: true}

func init() { kubernetesTarget.check = checkStructure }

// The pod's stop sequence: nginx leaves the endpoints and quits after NginxPreStopSeconds;
// the app waits PreStopSeconds (longer, so that it outlives nginx's last requests), then
// drains on SIGTERM within RequestTimeout. GracePeriod covers it all.
const (
	nginxPreStopSeconds = 5
	preStopSeconds      = 10
)

// podGroup is the pod's group (distroless's nonroot, as is its user): the app's socket is
// created 0660 in it, and nginx joins it through supplementalGroups.
const podGroup = 65532

// PodGroup is podGroup, for the template.
func (r *resolved) PodGroup() int { return podGroup }

// PreStopSeconds is the app container's preStop sleep.
func (r *resolved) PreStopSeconds() int { return preStopSeconds }

// NginxPreStopSeconds is the sidecar's wait before it quits gracefully.
func (r *resolved) NginxPreStopSeconds() int { return nginxPreStopSeconds }

// RequestTimeoutSeconds is runfcgi's timeout= in the pod.
func (r *resolved) RequestTimeoutSeconds() int { return RequestTimeout }

// GracePeriod is terminationGracePeriodSeconds: the preStop wait, a drain bounded by the
// request timeout, and 5 s to spare.
func (r *resolved) GracePeriod() int { return preStopSeconds + RequestTimeout + 5 }

// Sidecar reports whether the pod has an nginx sidecar (every protocol but http).
func (r *resolved) Sidecar() bool { return r.Protocol != "http" }

// SidecarSocket is the unix socket the app listens on and nginx connects to: the backend's
// when it is one, else DefaultSocket(Name). Its directory is the shared emptyDir.
func (r *resolved) SidecarSocket() string {
	if b := r.Backend(); b.IsUnix() {
		return b.Address
	}
	return DefaultSocket(r.Name)
}

// SocketDir is where the shared emptyDir is mounted in both containers.
func (r *resolved) SocketDir() string { return path.Dir(r.SidecarSocket()) }

// PodArgs are the app container's arguments: runfcgi on the shared socket (mode 0660, in
// the pod's group, which nginx joins), with admin= for the probes and timeout= bounding a
// drain; or, for http, the image's runserver on every interface.
func (r *resolved) PodArgs() []string {
	if !r.Sidecar() {
		return r.ContainerArgs()
	}
	return []string{"runfcgi", "protocol=" + r.Protocol, "socket=" + r.SidecarSocket(), "socket_mode=0660", "daemonize=false",
		"admin=0.0.0.0:" + strconv.Itoa(AdminPort), "timeout=" + strconv.Itoa(RequestTimeout) + "s"}
}

// ImageRef is Image, or NAME:latest.
func (r *resolved) ImageRef() string {
	if r.Image != "" {
		return r.Image
	}
	return r.Name + ":latest"
}

// WebImageRef is WebImage, or the app image's repository with "-web" and the same tag.
func (r *resolved) WebImageRef() string {
	if r.WebImage != "" {
		return r.WebImage
	}
	repo, tag := splitImage(r.ImageRef())
	return repo + "-web:" + tag
}

// splitImage splits a tagged image reference into repository and tag ("latest" when none).
func splitImage(ref string) (repo, tag string) {
	slash := strings.LastIndexByte(ref, '/')
	if i := strings.LastIndexByte(ref, ':'); i > slash {
		return ref[:i], ref[i+1:]
	}
	return ref, "latest"
}

// NginxSite is the nginx target's output for the pod, indented for the ConfigMap's block
// scalar: nginx listens on 8080 (it runs as a non-root user) and reaches the app on the
// shared socket; static files are where the web image put them (StaticRoot).
func (r *resolved) NginxSite() (string, error) {
	// r is checked already: the nginx target renders the same values, quoted its own way.
	n := *r
	n.t, n.Target = nginxTarget, nginxTarget.name
	n.Backends, n.Listen = []Backend{Unix(r.SidecarSocket())}, "8080"
	// The site's comment names the group that may open the socket: the pod's, not the
	// www-data a host's nginx runs in.
	n.WebGroup = strconv.Itoa(podGroup)
	text, err := renderWith(templateFS, &n)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(string(text), "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "\n"), nil
}

// validImageOptions checks Image and WebImage, and that the web image can be derived.
func (r *resolved) validImageOptions() error {
	if r.Image != "" && !ValidImage(r.Image) {
		return fieldErr("Image", KindImage, r.Image, wants[KindImage])
	}
	if r.WebImage != "" && !ValidImage(r.WebImage) {
		return fieldErr("WebImage", KindImage, r.WebImage, wants[KindImage])
	}
	if r.t.name == "kubernetes" && r.Sidecar() && r.WebImage == "" && strings.Contains(r.Image, "@") {
		return fieldErr("WebImage", KindCombined, "", "an image reference: the web image cannot be derived from an image pinned by digest")
	}
	if r.t.name == "kubernetes" && r.Sidecar() {
		dir := r.SocketDir()
		if dir == "/" || dir == "/tmp" || strings.HasPrefix(r.Binary, dir+"/") || strings.HasPrefix(r.StaticRoot, dir+"/") {
			e := fieldErr("Backends", KindCombined, r.SidecarSocket(), "a socket in a directory of its own (an emptyDir is mounted there, hiding what the image has): not in /, /tmp, nor above the binary or the static files")
			e.Index, e.Part = 0, "socket"
			return e
		}
	}
	return nil
}

// ValidImage reports whether s is an image reference appgen writes: a lower-case
// repository (optionally behind a registry host with a port), a tag, and optionally a
// sha256 digest: registry.example.com:5000/team/mysite:1.2.0@sha256:<64 hex>.
func ValidImage(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	name, digest, hasDigest := strings.Cut(s, "@")
	if hasDigest {
		hex, ok := strings.CutPrefix(digest, "sha256:")
		if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
			return false
		}
	}
	slash := strings.LastIndexByte(name, '/')
	repo, tag := name, ""
	if i := strings.LastIndexByte(name, ':'); i > slash {
		repo, tag = name[:i], name[i+1:]
		if tag == "" || len(tag) > 128 || !(isLetter(tag[0]) || isDigit(tag[0]) || tag[0] == '_') || !only(tag, "_.-") {
			return false
		}
	}
	parts := strings.Split(repo, "/")
	if len(parts) > 1 && (strings.ContainsAny(parts[0], ".:") || parts[0] == "localhost") {
		host, port, hasPort := strings.Cut(parts[0], ":")
		if !validDNSName(host) || hasPort && !ValidPort(port) {
			return false
		}
		parts = parts[1:]
	}
	for _, p := range parts {
		if p == "" || !(p[0] >= 'a' && p[0] <= 'z' || isDigit(p[0])) || strings.ToLower(p) != p || !only(p, "._-") ||
			strings.Contains(p, "..") || strings.HasSuffix(p, ".") || strings.HasSuffix(p, "-") || strings.HasSuffix(p, "_") {
			return false
		}
	}
	return true
}
