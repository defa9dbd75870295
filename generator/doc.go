// Package generator renders a project template into files, the machinery behind
// `appgen startproject`.
//
// It takes a template as an [fs.FS] and [Options], and returns the rendered files in memory
// ([Render]); it checks a target directory against them and writes them atomically ([Write]).
// It never reads flags, prints, or exits, so tests can hand it an in-memory template.
//
// # Template conventions
//
// A file whose name ends in ".tmpl" is rendered with text/template and sprig's hermetic
// functions (with missingkey=error) and written without the suffix; other files are copied
// as they are. Every path is rendered as a template too, so "{{.Name}}.fcgi.tmpl" becomes
// "mysite.fcgi".
//
// # Templates are data
//
// A template, above all a user's --template, may compute its output and nothing else. Its
// functions are an allow-list of sprig's: none reads the environment (env, expandenv), the
// network (getHostByName), files or the clock, or draws random numbers. Every rendered path
// must pass [CheckPath] (relative, no "..", no control characters, no .git or other version
// control directory in any case), checked after rendering, since the data decides the
// name. Rendering is bounded by [RenderLimits]: each file's size, all files' size, the time
// of the whole rendering, the nesting of template calls; a function whose result would pass
// the file limit (repeat, indent, replace, join, until, printf widths, …) is refused before it
// allocates. The same rules hold for a dry run, which renders the same way.
// The template data is [Data]. A rendered ".go" file (outside testdata directories) is
// formatted as gofmt would, so gofmt -l on a generated project prints nothing.
//
// A file is written executable (0777 less the umask) when its rendered text starts with "#!"
// or its template file has an execute bit; other files get 0666 less the umask.
//
// # The vendored runtime
//
// When [Options.Runtime] is set, the project requires the runtime module ([RuntimeModule]) at
// [Runtime].Version and carries it the standard Go way: [Vendor] writes vendor/ and
// vendor/modules.txt exactly as `go mod vendor` would (the runtime packages the project
// imports, without tests and testdata), and go.sum with the module's hashes, so the project
// builds with no network and an empty module cache, and `go mod vendor` against a proxy
// holding that version reproduces the same tree. Templates name the version
// {{.RuntimeVersion}} in their go.mod.
//
// # What is not supported
//
// Empty directories in a template are not reproduced; templates cannot delete or
// overwrite files; there is no --force: a target holding any file that would be written is
// refused before anything is written.
package generator
