// Package manage is manage.py for Go: the command line of a generated project's binary.
//
// A project's main.go loads its settings and calls Main with the application object and the
// settings that the commands need; Main dispatches:
//
//	runserver [ADDR]        HTTP on net/http for development (default 127.0.0.1:8000)
//	runfcgi [key=value …]   FastCGI, SCGI or AJP behind a web server (package runfcgi)
//	check                   every problem the settings have, exit status 1 if any
//	help [COMMAND]          usage
//
// runserver serves the same handler that runfcgi serves: the project's application object.
// It stops gracefully on SIGINT or SIGTERM: it stops accepting connections, lets the requests
// in flight finish and then exits; a second signal stops it at once. When the settings force a
// script name (Django's FORCE_SCRIPT_NAME), runserver mounts the site under it, as a web server
// would: it strips that prefix from the path and hands it to handlers through
// gateway.ScriptName. In development it also serves the static files from StaticRoot at
// StaticURL; in production the web server does that.
//
// This package uses the standard library and the rest of appgen's runtime only.
package manage
