//go:build unix && !linux

package prefork

// dropProgramPages does nothing outside Linux, which is the only system
// whose mappings this package reads.
func dropProgramPages() error { return nil }
