package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// The docker target: a multi-stage Dockerfile that builds the project's static binary
// offline from its vendored runtime and runs it as a non-root user in a minimal image. Its
// companion, the dockerignore target, keeps the build context free of secrets (NAME.env),
// version control and local builds.
var dockerTarget = &target{name: "docker", summary: "multi-stage Dockerfile: offline static build, non-root runfcgi (or runserver for --protocol http)",
	protocols: []string{"fcgi", "scgi", "http"}, usesBackends: true, oneBackend: true, template: "Dockerfile.tmpl",
	syntax: syntaxDockerfile, fields: fieldList(baseFields, appEnvFields, []string{"Backends", "StaticRoot"}),
	companion: "dockerignore", onRequest: true}

// The dockerignore target: what the build context leaves out, .dockerignore at the root of
// the context, beside the Dockerfile. Its template cannot be named after it (go:embed leaves
// out dot files), so the target names its file.
var dockerignoreTarget = &target{name: "dockerignore", summary: "the Dockerfile's .dockerignore: no secrets or local builds in the build context",
	protocols: []string{"fcgi", "scgi", "http"}, usesBackends: true, oneBackend: true, template: "dockerignore.tmpl", file: ".dockerignore",
	syntax: syntaxDockerignore, fields: fieldList(baseFields, appEnvFields, []string{"Backends", "StaticRoot"}), onRequest: true}

func init() {
	dockerTarget.check, dockerignoreTarget.check = checkStructure, checkStructure
}

// checkStructure is the check of the targets no installed program validates (docker is
// only a client here, and `docker build --check` needs an engine; kubectl needs a cluster):
// the output has already been read back with the target's own reader and refused if it
// holds anything appgen never writes (checkText); this says that was the whole check.
func checkStructure(_ context.Context, r *resolved, _ []byte, _ string) ([]string, error) {
	return []string{"checked with appgen's own " + r.t.syntax.name + " reader only: no " + r.t.name + " validator runs without a Docker engine or a cluster"}, nil
}

// AdminPort is the port of runfcgi's admin= listener, or runserver's --admin, (/healthz,
// /readyz, /metrics) in a container: a constant, since probes and the image must agree on it.
const AdminPort = 9001

// RequestTimeout is runfcgi's timeout= in a container: a request still running after it is
// answered 504, so that a drain (SIGTERM) ends within it, which the pod's grace period
// counts on.
const RequestTimeout = 30

// ContainerPort is the port the app listens on inside a container, on every interface: a
// TCP backend's port, else 3033 for FastCGI and SCGI and 8000 (runserver's) for HTTP.
func (r *resolved) ContainerPort() int {
	if b := r.Backend(); !b.IsUnix() {
		return b.Port()
	}
	if r.Protocol == "http" {
		return 8000
	}
	return 3033
}

// ContainerArgs are the arguments the image runs its binary with: runfcgi on the container
// port with admin= for probes and timeout= bounding a drain, or for HTTP runserver without
// its reloader, with --admin serving the same probes.
func (r *resolved) ContainerArgs() []string {
	port := strconv.Itoa(r.ContainerPort())
	if r.Protocol == "http" {
		return []string{"runserver", "--noreload", "--admin", "0.0.0.0:" + strconv.Itoa(AdminPort), "0.0.0.0:" + port}
	}
	return []string{"runfcgi", "protocol=" + r.Protocol, "host=0.0.0.0", "port=" + port, "daemonize=false",
		"admin=0.0.0.0:" + strconv.Itoa(AdminPort), "timeout=" + strconv.Itoa(RequestTimeout) + "s"}
}

// StaticSource is StaticRoot relative to Dir: where the static files are in the build
// context (the project directory). fill refuses a StaticRoot outside Dir for these targets.
func (r *resolved) StaticSource() string {
	return strings.TrimPrefix(strings.TrimPrefix(r.StaticRoot, r.Dir), "/")
}

// containerLine is the header's line saying where the app listens in its container.
func (r *resolved) containerLine() string {
	if r.t.name == "kubernetes" && r.Sidecar() {
		return "pod: app on unix:" + r.SidecarSocket() + " (admin 0.0.0.0:" + strconv.Itoa(AdminPort) + "), nginx sidecar on 8080; image " + r.ImageRef() + ", web image " + r.WebImageRef()
	}
	l := "container: listens on 0.0.0.0:" + strconv.Itoa(r.ContainerPort()) + " (admin 0.0.0.0:" + strconv.Itoa(AdminPort) + ")"
	if r.t.name == "kubernetes" {
		l += "; image " + r.ImageRef()
	}
	return l
}

// Entrypoint is the image's ENTRYPOINT: the binary.
func (r *resolved) Entrypoint() []string { return []string{r.Binary} }

// AdminPortNumber is AdminPort, for templates.
func (r *resolved) AdminPortNumber() int { return AdminPort }

// EnvFileName is the secrets file's name in the project directory (EnvFile's base name).
func (r *resolved) EnvFileName() string { return r.Name + ".env" }

// BinaryName is the binary's file name, which the build stage writes in its working directory.
func (r *resolved) BinaryName() string { return path.Base(r.Binary) }

// staticInDir refuses a StaticRoot outside Dir for the container targets, which copy it from
// the build context (the project directory).
func (r *resolved) staticInDir() error {
	if r.t.name != "docker" && r.t.name != "dockerignore" && r.t.name != "kubernetes" {
		return nil
	}
	if !strings.HasPrefix(r.StaticRoot, r.Dir+"/") {
		return fieldErr("StaticRoot", KindCombined, r.StaticRoot, "a directory inside "+r.Dir+": the image copies it from the build context, the project directory")
	}
	return nil
}

// dockerJSON writes args as a Dockerfile exec-form array (JSON), each element a JSON
// string. Control characters are refused: JSON would escape them, but no argument needs one.
func dockerJSON(args []string) (string, error) {
	for _, a := range args {
		if controlChar(a) >= 0 {
			return "", refuse("a Dockerfile argument", a, "control character")
		}
	}
	b, err := json.Marshal(args)
	if err != nil {
		return "", fmt.Errorf("deploy: %w", err)
	}
	return strings.ReplaceAll(string(b), ",", ", "), nil
}

// dockerEnv writes one ENV assignment KEY="value": inside double quotes the Dockerfile
// reader takes '\' as an escape and expands '$', so '\', '"' and '$' are escaped with a
// backslash; control characters (a newline ends the instruction) are refused.
func dockerEnv(key, value string) (string, error) {
	if key == "" || !only(key, "_") || isDigit(key[0]) {
		return "", refuse("a Dockerfile variable name", key, "want letters, digits and '_'")
	}
	if controlChar(value) >= 0 {
		return "", refuse("a Dockerfile value", value, "control character")
	}
	return key + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`).Replace(value) + `"`, nil
}

// dockerWord writes v as one bare word of a Dockerfile instruction (WORKDIR, COPY): the
// reader splits at whitespace, expands '$' and takes '\' as an escape, and quotes are
// removed, so none of those is carried.
func dockerWord(v string) (string, error) {
	if v == "" || controlChar(v) >= 0 || strings.ContainsAny(v, " \"'$\\") {
		return "", refuse("a Dockerfile word", v, "empty, control character, space, quote, '$' or '\\'")
	}
	return v, nil
}

// dockerignorePattern writes v as a literal .dockerignore pattern: '*', '?', '[', '\\' and
// a leading '!' or '#' mean something there, and a line holds one pattern.
func dockerignorePattern(v string) (string, error) {
	if v == "" || controlChar(v) >= 0 || strings.ContainsAny(v, "*?[]\\ ") || strings.HasPrefix(v, "!") || strings.HasPrefix(v, "#") {
		return "", refuse("a .dockerignore pattern", v, "empty, control character, space, or one of * ? [ ] \\, or a leading ! or #")
	}
	return v, nil
}

func init() {
	quoteFuncs["dockerjson"] = dockerJSON
	quoteFuncs["dockerenv"] = dockerEnv
	quoteFuncs["dockerword"] = dockerWord
	quoteFuncs["dockerignore"] = dockerignorePattern
}
