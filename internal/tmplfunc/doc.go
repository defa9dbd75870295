// Package tmplfunc is the one function map appgen's templates get: the hermetic part of
// sprig's (github.com/Masterminds/sprig/v3) functions, implemented here with the same names,
// signatures and results, so that a project template or deploy template written for sprig
// renders the same.
//
// Why not sprig itself: importing it ran, in every appgen command including --version, the
// package initialization of everything sprig imports (Masterminds/semver compiles its
// regular expressions, shopspring/decimal, net, crypto/x509, bcrypt, …): several
// milliseconds per process, more than the rest of appgen's start-up. Only what a hermetic
// function needs is here: the standard library, and three small leaf packages with no
// start-up cost for the functions whose rules are long (huandu/xstrings for camelcase,
// snakecase and kebabcase; dario.cat/mergo for merge; mitchellh/copystructure for deepCopy).
//
// Hermetic means the same input gives the same output: nothing reads the environment, the
// network, the file system or the clock, or draws random numbers. sprig's semver and
// semverCompare are left out: they would bring back Masterminds/semver and its start-up
// cost, for a comparison a project template has no use for.
//
// The tests run every function on a table of inputs through both this map and sprig's, and
// require the same result or the same failure; sprig is a test-only dependency.
package tmplfunc
