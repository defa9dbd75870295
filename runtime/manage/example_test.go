package manage_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/appgen/appgen/runtime/manage"
)

// A project's main.go hands Main its application object and settings; check prints the
// settings' problems and fails on any.
func ExampleMain() {
	site := manage.Site{
		Name:    "mysite",
		Handler: http.NotFoundHandler(),
		Check: func() []error {
			return []error{errors.New("settings: AllowedHosts is empty")}
		},
		Stdout: os.Stdout,
		Stderr: os.Stdout,
	}
	status := manage.Main([]string{"check"}, site)
	fmt.Println("exit status", status)

	site.Check = nil
	status = manage.Main([]string{"check"}, site)
	fmt.Println("exit status", status)

	status = manage.Main([]string{"migrate"}, manage.Site{Name: "mysite", Handler: http.NotFoundHandler(), Stderr: os.Stdout})
	fmt.Println("exit status", status)
	// Output:
	// System check identified some issues:
	//   settings: AllowedHosts is empty
	// System check identified 1 issue.
	// exit status 1
	// System check identified no issues.
	// exit status 0
	// mysite: unknown command "migrate"
	// Usage: mysite COMMAND [ARGUMENTS]
	//
	// Commands:
	//   runserver [--noreload] [--admin ADDR] [ADDR]  serve the site over HTTP for development
	//   runfcgi [KEY=VALUE ...]                       serve the site over FastCGI, SCGI or AJP
	//   check [--deploy]                              check the settings and print every problem
	//   help [COMMAND]                                print this help, or a command's
	//
	// APPGEN_SETTINGS selects the settings profile.
	// Run "mysite help COMMAND" for a command's details.
	// exit status 2
}
