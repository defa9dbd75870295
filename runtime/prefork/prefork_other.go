//go:build !unix

package prefork

import (
	"context"
	"net"
	"net/http"
	"os"
)

// Master returns ErrNotSupported: see the package documentation.
func Master(ctx context.Context, l net.Listener, cfg Config) error {
	return ErrNotSupported
}

// Worker returns ErrNotSupported: see the package documentation.
func Worker(ctx context.Context, newServer func(wrap func(http.Handler) http.Handler) Server, cfg Config) error {
	return ErrNotSupported
}

// ReadStatus returns ErrNotSupported: see the package documentation.
func ReadStatus() (Status, error) {
	return Status{}, ErrNotSupported
}

// ListenerFile returns ErrNotSupported: see the package documentation.
func ListenerFile(l net.Listener) (*os.File, error) {
	return nil, ErrNotSupported
}
