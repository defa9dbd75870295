//go:build !unix

package command

// umask is zero where there is no umask (Windows): modes are shown as requested.
func umask() uint32 { return 0 }
