package command

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGuides runs every `appgen config` command the server guides (docs/servers/*.md and
// docs/scaling.md) show
// in their shell blocks, as written, so that a recipe cannot rot (issue 10). Each guide gets
// a scratch root: `~` is ROOT/home, holding generated projects named as the guides name them
// (mysite, site1, site2), and paths under /etc are ROOT/etc. A command runs in ~/mysite
// unless the line says `cd DIR &&` first; `> FILE` takes its standard output. Every command
// must succeed. The other commands in the blocks (systemctl, nginx -t, useradd) change the
// system and are not run here.
func TestGuides(t *testing.T) {
	guides, err := filepath.Glob(filepath.Join(repoRoot(t), "docs", "servers", "*.md"))
	if err != nil || len(guides) == 0 {
		t.Fatalf("no guides: %v", err)
	}
	// The scaling guide's steps are server guides' commands too.
	guides = append(guides, filepath.Join(repoRoot(t), "docs", "scaling.md"))
	ran := 0
	for _, guide := range guides {
		cmds := guideCommands(t, guide)
		if len(cmds) == 0 {
			continue
		}
		t.Run(filepath.Base(guide), func(t *testing.T) {
			root := t.TempDir()
			home := filepath.Join(root, "home")
			for _, name := range []string{"mysite", "site1", "site2"} {
				if status, _, stderr := runAppgen(t, mkdir(t, home), "startproject", name); status != 0 {
					t.Fatalf("startproject %s: %s", name, stderr)
				}
			}
			for _, c := range cmds {
				dir := filepath.Join(home, "mysite")
				var args []string
				out := ""
				for i := 0; i < len(c.words); i++ {
					w := mapPath(c.words[i], root, home)
					switch {
					case w == ">" && i+1 < len(c.words):
						out = mapPath(c.words[i+1], root, home)
						i++
					case w == "cd" && i+2 < len(c.words) && c.words[i+2] == "&&":
						dir = mapPath(c.words[i+1], root, home)
						i += 2
					default:
						args = append(args, w)
					}
				}
				status, stdout, stderr := runAppgen(t, dir, args[1:]...) // args[0] is "appgen"
				if status != 0 {
					t.Errorf("%s:%d: %s\nexit %d: %s", filepath.Base(guide), c.line, c.text, status, stderr)
					continue
				}
				if out != "" {
					mkdir(t, filepath.Dir(out))
					if err := os.WriteFile(out, []byte(stdout), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				ran++
			}
		})
	}
	if ran == 0 {
		t.Fatal("no guide command ran")
	}
}

type guideCommand struct {
	line  int
	text  string
	words []string // from an optional "cd DIR &&" to the end of the appgen command and its "> FILE"
}

// guideCommands returns the appgen config commands in a guide's ```sh blocks, with
// backslash-continued lines joined and comments dropped.
func guideCommands(t *testing.T, path string) []guideCommand {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []guideCommand
	inSh := false
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "```") {
			inSh = !inSh && strings.TrimPrefix(l, "```") == "sh"
			continue
		}
		if !inSh {
			continue
		}
		start := i + 1
		for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
			i++
			l = strings.TrimSuffix(l, "\\") + " " + strings.TrimSpace(lines[i])
		}
		words := shellWords(l)
		at := -1
		for j := 0; j+1 < len(words); j++ {
			if words[j] == "appgen" && words[j+1] == "config" {
				at = j
				break
			}
		}
		if at < 0 {
			continue
		}
		from := at
		if at >= 3 && words[at-3] == "cd" && words[at-1] == "&&" {
			from = at - 3
		}
		var cmd []string
		for j := from; j < len(words); j++ {
			w := words[j]
			if j > at && (w == "&&" || w == ";" || w == "|") {
				break // what follows is another command
			}
			if w == "(" || w == ")" {
				continue
			}
			cmd = append(cmd, w)
		}
		out = append(out, guideCommand{line: start, text: strings.TrimSpace(l), words: cmd})
	}
	return out
}

// shellWords splits a line as sh does for what the guides use: words, '...' and "..."
// quotes, the operators && ; | ( ) >, and a # comment at a word's start.
func shellWords(l string) []string {
	var words []string
	var w strings.Builder
	in := false
	flush := func() {
		if in {
			words = append(words, w.String())
		}
		w.Reset()
		in = false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c == '#' && !in:
			flush()
			return words
		case c == ' ' || c == '\t':
			flush()
		case c == '\'' || c == '"':
			in = true
			j := strings.IndexByte(l[i+1:], c)
			if j < 0 {
				j = len(l) - i - 1
			}
			w.WriteString(l[i+1 : i+1+j])
			i += j + 1
		case c == '&' && i+1 < len(l) && l[i+1] == '&':
			flush()
			words = append(words, "&&")
			i++
		case strings.IndexByte(";|()>", c) >= 0:
			flush()
			words = append(words, string(c))
		default:
			in = true
			w.WriteByte(c)
		}
	}
	flush()
	return words
}

var etcPath = regexp.MustCompile(`^/etc/`)

// mapPath puts ~ under home and /etc under root, in a word or after a flag's "=".
func mapPath(w, root, home string) string {
	if w == "~" || strings.HasPrefix(w, "~/") {
		return home + w[1:]
	}
	if etcPath.MatchString(w) {
		return filepath.Join(root, w)
	}
	return w
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestShellWords pins the guide parser on the forms the guides use.
func TestShellWords(t *testing.T) {
	got := shellWords(`(cd ~/site1 && appgen config lighttpd --server-name 'a b')  > /etc/x # note`)
	want := []string{"(", "cd", "~/site1", "&&", "appgen", "config", "lighttpd", "--server-name", "a b", ")", ">", "/etc/x"}
	if !bytes.Equal([]byte(strings.Join(got, "|")), []byte(strings.Join(want, "|"))) {
		t.Errorf("shellWords = %q, want %q", got, want)
	}
}
