//go:build !unix

package serve

// WaitInput returns at once where the runtime cannot wait for a socket
// without reading it; protocols then take their buffers at accept.
func (c *Conn) WaitInput() error { return nil }
