// Package testsupport holds, in its subpackages, what the tests of the runtime and of appgen
// share: logbuf (a log.Logger whose lines a test can wait for), pipenet (in-memory listeners),
// testcert (throwaway TLS certificates) and webserver (throwaway nginx, Apache and lighttpd
// instances, also behind `appgen config --check`).
//
// They live in the runtime module, not under an internal/ directory, because both modules use
// them: Go lets no other module import a module's internal packages, and the runtime module's
// tests must build without appgen's module. They are not part of the runtime's API: an
// application has no reason to import them, they carry no compatibility promise from one
// version to the next, and a generated project never vendors them (`go mod vendor` copies only
// the packages a project imports).
package testsupport
