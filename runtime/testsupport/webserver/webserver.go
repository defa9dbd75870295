package webserver

import (
	"fmt"
	"net"

	"github.com/appgen/appgen/runtime/serverconf"
)

// The configuration half lives in runtime/serverconf, which `appgen config --check` ships;
// these names keep the test harness's callers as they were.

// Program names a web server; see serverconf.Program.
type Program = serverconf.Program

// Config describes one instance; see serverconf.Config.
type Config = serverconf.Config

// The servers this package knows.
const (
	Nginx    = serverconf.Nginx
	Apache   = serverconf.Apache
	Lighttpd = serverconf.Lighttpd
	Cherokee = serverconf.Cherokee
)

// Programs lists every Program, in the order tests usually run them.
var Programs = serverconf.Programs

// ApacheModuleDir is where Debian's apache2 package keeps its modules.
const ApacheModuleDir = serverconf.ApacheModuleDir

// DefaultApacheModules and DefaultLighttpdModules are the modules MainConfig loads when
// Config.Modules is nil.
var (
	DefaultApacheModules   = serverconf.DefaultApacheModules
	DefaultLighttpdModules = serverconf.DefaultLighttpdModules
)

// ErrCheck wraps the output of a server's validator when it rejects a configuration.
var ErrCheck = serverconf.ErrCheck

const (
	mainConfigName = serverconf.MainConfigName
	errorLogName   = serverconf.ErrorLogName
)

// LookPath finds program in PATH or in /usr/sbin and /sbin; see serverconf.LookPath.
func LookPath(program string) (string, error) { return serverconf.LookPath(program) }

// MainConfig returns the main configuration for c; see serverconf.MainConfig.
func MainConfig(c Config) (string, error) { return serverconf.MainConfig(c) }

// WriteConfig writes c's configuration into c.Dir; see serverconf.WriteConfig.
func WriteConfig(c Config) (string, error) { return serverconf.WriteConfig(c) }

// CheckArgs returns the command line of the server's validator; see serverconf.CheckArgs.
func CheckArgs(p Program, dir, path string) []string { return serverconf.CheckArgs(p, dir, path) }

// Check runs the server's own validator on c; see serverconf.Check.
func Check(c Config) error { return serverconf.Check(c) }

// RunArgs returns the command line that runs the configuration at path in the foreground.
func RunArgs(p Program, dir, path string) []string {
	switch p {
	case Nginx:
		return []string{"-p", dir, "-c", path, "-g", "daemon off;"}
	case Apache:
		// -X: one process in the foreground, so stopping it stops everything it started.
		return []string{"-X", "-f", path}
	case Cherokee:
		// Without -d Cherokee stays in the foreground.
		return []string{"-C", path}
	default:
		return []string{"-D", "-f", path}
	}
}

// FreeAddrPort asks the kernel for a free TCP port on 127.0.0.1. Another process may take it
// before the caller binds it; tests accept that small race, as every test harness does.
func FreeAddrPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("webserver: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
