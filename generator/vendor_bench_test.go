package generator

import (
	"testing"

	appgenruntime "github.com/appgen/appgen/runtime"
)

// BenchmarkRuntimeSum hashes the embedded runtime module for go.sum, as every startproject
// does. Its allocations (-benchmem) were 32 KB per file of the module before the hash copied
// each file through one shared buffer.
func BenchmarkRuntimeSum(b *testing.B) {
	r := Runtime{Files: appgenruntime.Files, Version: DevelRuntimeVersion}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Sum(); err != nil {
			b.Fatal(err)
		}
	}
}
