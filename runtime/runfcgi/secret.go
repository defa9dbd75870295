package runfcgi

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// SecretEnv is the environment variable that holds the AJP secret. It is how
// the secret reaches the processes runfcgi starts (the daemon, prefork
// workers, a restart in place): never on their command line, which every
// local user can read in ps or /proc/PID/cmdline. A process that runs
// handlers removes it from its own environment once read, so programs the
// application starts do not inherit it.
const SecretEnv = "APPGEN_AJP_SECRET"

// maxSecretFile bounds what secret_file= reads: a secret is one short line,
// and a typo naming a large file must not be read whole.
const maxSecretFile = 64 << 10

// loadSecret settles the AJP secret from its three sources, at most one of
// which may be given: secret_file= (the file's first line), the SecretEnv
// variable (read only for protocol=ajp, since an env file may serve several
// programs), and secret= (which works, with a warning). It then applies
// the Ghostcat rule: AJP on a non-loopback TCP address needs a secret.
// Warnings go to warn; no message ever contains the secret.
func (o *Options) loadSecret(lookup func(string) (string, bool), warn io.Writer) error {
	env, inEnv := lookup(SecretEnv)
	if o.Protocol != "ajp" {
		inEnv = false
	}
	given := 0
	for _, b := range []bool{o.Secret != "", o.SecretFile != "", inEnv && env != ""} {
		if b {
			given++
		}
	}
	if given > 1 {
		return usagef("the AJP secret is given more than once (secret=, secret_file= and %s); give it one way", SecretEnv)
	}
	switch {
	case o.SecretFile != "":
		s, err := readSecretFile(o.SecretFile, warn)
		if err != nil {
			return err
		}
		o.Secret = s
	case inEnv && env != "":
		if err := checkSecret(env); err != nil {
			return fmt.Errorf("runfcgi: %s: %w", SecretEnv, err)
		}
		o.Secret = env
	case o.Secret != "":
		if err := checkSecret(o.Secret); err != nil {
			return usagef("secret=: %v", err)
		}
		fmt.Fprintf(warn, "runfcgi: warning: secret= on the command line can be read by every local user (ps, /proc/PID/cmdline); use secret_file=PATH (mode 0600) or %s\n", SecretEnv)
	}
	if o.Protocol == "ajp" && o.Secret == "" && !o.DefaultAddress && o.Socket == "" && !isLoopback(o.Host) {
		return usagef("protocol=ajp on host=%s needs a secret (secret_file=PATH or %s): without one anyone who reaches the port can forge requests (Ghostcat)", o.Host, SecretEnv)
	}
	return nil
}

// checkSecret refuses what cannot be an AJP secret attribute: control
// characters (a stray carriage return from a file edited on Windows would
// make every request fail to match, silently).
func checkSecret(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return fmt.Errorf("the secret contains a control character (byte %d); want printable characters", i)
		}
	}
	return nil
}

// readSecretFile returns the first line of path, as ssh and php-fpm treat a
// key file: refused when every user may read it or anyone but its owner may
// write it; a warning when its group may read it (right when the group is
// the site's own, wrong when it is a shared group such as users).
func readSecretFile(path string, warn io.Writer) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("runfcgi: secret_file=%s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("runfcgi: secret_file=%s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("runfcgi: secret_file=%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	perm := fi.Mode().Perm()
	switch {
	case perm&0o004 != 0:
		return "", fmt.Errorf("runfcgi: secret_file=%s is readable by every user (mode %04o); want 0600 (chmod 600 %s)", path, perm, path)
	case perm&0o022 != 0:
		return "", fmt.Errorf("runfcgi: secret_file=%s is writable by others than its owner (mode %04o); want 0600 (chmod 600 %s)", path, perm, path)
	case perm&0o040 != 0:
		fmt.Fprintf(warn, "runfcgi: warning: secret_file=%s is readable by group %s (mode %04o); fine if only the site is in that group, else chmod 600 it\n", path, groupName(fi), perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("runfcgi: secret_file=%s: %w", path, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("runfcgi: secret_file=%s is larger than %d bytes; want one line holding the secret", path, maxSecretFile)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("runfcgi: secret_file=%s: the first line is empty; want the secret on it", path)
	}
	if err := checkSecret(line); err != nil {
		return "", fmt.Errorf("runfcgi: secret_file=%s: %w", path, err)
	}
	return line, nil
}

// handOver makes the secret travel to re-executed processes through the
// environment only: the secret= and secret_file= arguments leave os.Args
// (which the daemon, prefork workers and a restart in place run with), and
// the variable leaves this process's environment, so that what the
// application runs does not inherit it; childEnv adds it back for the
// processes runfcgi itself starts. Reading secret_file once, here, also
// means a worker started after a chdir to workdir needs no path.
func (r *run) handOver() {
	os.Args = withoutSecretArgs(os.Args)
	os.Unsetenv(SecretEnv)
}

// withoutSecretArgs drops the secret= and secret_file= arguments (any case,
// as Parse reads keys) after the command name.
func withoutSecretArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		k, _, _ := strings.Cut(a, "=")
		if i > 0 && (strings.EqualFold(k, "secret") || strings.EqualFold(k, "secret_file")) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// childEnv is the environment of a process runfcgi starts: this one's, the
// secret when there is one, and systemd's notification socket when there is
// one.
func (r *run) childEnv(extra ...string) []string {
	env := os.Environ()
	if r.o.Secret != "" {
		env = append(env, SecretEnv+"="+r.o.Secret)
	}
	if r.notifier != nil {
		// A daemon or a threaded successor speaks to systemd in turn.
		env = append(env, notifySocketEnv+"="+r.notifier.env)
	}
	return append(env, extra...)
}
