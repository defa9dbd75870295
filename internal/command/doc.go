// Package command is the appgen command line: the urfave/cli application with its
// subcommands (startproject, config, completion), help, --version and shell completion.
//
// [Execute] is the whole program: main.go only passes it the build's version, the
// embedded runtime sources and the process arguments, and exits with the status it
// returns. Exit statuses are decided here, in one place: 0 success, 1 an error (one line on
// stderr, "appgen: …"), 2 a usage error (bad flags or arguments), 130 interrupted.
package command
