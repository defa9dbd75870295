// Package golden holds appgen's golden tests: generated trees and configurations kept as
// txtar archives under testdata/, compared file by file, and rewritten with
//
//	go test ./golden/... -update
//
// after a deliberate change, to be reviewed as a diff. The package's only non-test code
// is the comparison shared by those tests (CompareArchive).
package golden
