// Package testcert makes throwaway X.509 certificates for tests: a CA, and
// server and client certificates it signs, with their keys in PEM for
// servers that read files. Keys are ECDSA P-256 and certificates are valid
// for an hour around now. Test support only: nothing under runtime/ imports
// it, so generated projects never bundle it.
package testcert
