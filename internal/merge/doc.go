// Package merge compares and merges text files line by line: a line diff (Myers' O(ND)
// algorithm, with each insertion or deletion slid as far down as it goes, as git does), a
// three-way merge that writes conflicts in diff3 style as `git merge-file -p --diff3` does,
// and unified diffs.
//
// appgen upgrade merges each generated file: base is what appgen generated, ours the file
// as the user left it, theirs what the newer appgen generates. Changes that touch or overlap
// in base are one conflict unless both sides made the same change, as in git's merge at its
// "eager" level, the one git uses for diff3-style output:
//
//	<<<<<<< ours
//	the user's lines
//	||||||| base
//	the generated lines
//	=======
//	the new template's lines
//	>>>>>>> theirs
//
// What it does not do: binary files (IsBinary says which files to leave to the caller),
// CRLF-aware markers (markers always end in "\n"), or refining a conflict into smaller ones.
// A diff whose edit distance exceeds MaxEdits is reported as one change of everything between
// the common first and last lines, which keeps time and memory bounded on unrelated files.
package merge
