// Package logbuf is a log destination for tests whose servers write from
// several goroutines while the test reads: a buffer safe for concurrent use
// that splits what was written into lines and can wait for them.
//
// It is test support; it lives outside runtime/ so that generated projects,
// which bundle runtime/ without its tests, never see it.
package logbuf
