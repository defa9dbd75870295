// Package appgenruntime carries the runtime module's own files, so that appgen can vendor
// the runtime into the projects it generates with no network and no module cache.
//
// The runtime's packages live in the folders below (gateway, fastcgi, manage, …); this
// package at the module root exists only for that embedding, which Go allows only from
// inside the module whose files are embedded. Its name is not "runtime", which would shadow
// the standard library's package in every file that imported it. Applications do not import
// it, so `go mod vendor` leaves it out of their vendor/ tree.
package appgenruntime

import "embed"

// Files is every file of the module (go.mod, sources, tests and testdata), rooted at the
// module root: what the module's zip holds, so appgen can compute the go.sum hash a proxy's
// copy of this version must match.
//
//go:embed all:*
var Files embed.FS
