// Package doctest runs the guides: the shell blocks of docs/*.md and README.md are what a
// user types, so the tests here run them as written (issue 10), and check that every block
// that invokes appgen or a project's binary is run by some test or says why it cannot be.
//
// Blocks reads a Markdown file's fenced code blocks; the tests are the rest of the package.
package doctest
