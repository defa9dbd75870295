// Package upgrade keeps what appgen generated in a project, and merges a newer rendering of
// the project's template into the project as the user has changed it.
//
// startproject writes .appgen/manifest.json (the appgen version, the template's source and
// content hash, every option, and each generated file's SHA-256) and .appgen/base.tar.gz
// (the generated files themselves, compressed), so an upgrade needs neither the network nor
// the appgen that made the project. `appgen config -o FILE` inside a project adds FILE with
// the flags that made it.
//
// Plan compares, per file, base (what was generated), ours (the file now) and theirs (what
// this appgen generates from the same template and options): see Plan for the rules. The
// command then applies the plan atomically (generator.Apply) with the new manifest and base.
package upgrade
