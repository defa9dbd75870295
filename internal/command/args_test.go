package command

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// Issue 10: flags after a command's arguments were an error ("flags go before NAME"), unlike
// Django's startproject; walkArgs moves them before the arguments for every command.
func TestWalkArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    string
		suggest string
	}{
		{"flags after the name", "startproject mysite --module example.com/mysite", "startproject --module example.com/mysite mysite", ""},
		{"flags between the arguments", "startproject mysite --dry-run dir --template=t.zip", "startproject --dry-run --template=t.zip mysite dir", ""},
		{"flags first stay", "startproject --module m mysite dir", "startproject --module m mysite dir", ""},
		{"a boolean takes no value", "startproject mysite --dry-run dir", "startproject --dry-run mysite dir", ""},
		{"a double dash ends the flags", "startproject mysite -- --odd", "startproject -- mysite --odd", ""},
		{"a double dash before the arguments", "startproject --dry-run -- mysite", "startproject --dry-run -- mysite", ""},
		{"subcommand flags", "config nginx --port 80 -o out", "config nginx --port 80 -o out", ""},
		{"completion is left alone", "startproject mysite --mo --generate-bash-completion", "startproject mysite --mo --generate-bash-completion", ""},
		{"unknown command", "startprojet mysite --dry-run", "startprojet mysite --dry-run", "startproject"},
		{"unknown target", "config ngnix", "config ngnix", "nginx"},
		{"nothing close", "zzzzzz", "zzzzzz", ""},
		{"app flags", "--version", "--version", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, suggest := walkArgs(commands(), append([]string{"appgen"}, strings.Fields(tt.args)...))
			if want := append([]string{"appgen"}, strings.Fields(tt.want)...); !slices.Equal(got, want) {
				t.Errorf("walkArgs(%q) = %q, want %q", tt.args, got, want)
			}
			if suggest != tt.suggest {
				t.Errorf("walkArgs(%q) suggests %q, want %q", tt.args, suggest, tt.suggest)
			}
		})
	}
}

// FuzzWalkArgs: whatever the words, walkArgs only reorders them, keeps the program name and
// the command names in front, and keeps the arguments in their order.
func FuzzWalkArgs(f *testing.F) {
	for _, s := range []string{"startproject mysite --module m", "config nginx --port 80", "startproject -- -x", "startproject a --dry-run b -- c", "config ngnix"} {
		f.Add(s)
	}
	cmds := commands()
	f.Fuzz(func(t *testing.T, line string) {
		args := append([]string{"appgen"}, strings.Fields(line)...)
		got, _ := walkArgs(cmds, args)
		a, b := slices.Clone(args), slices.Clone(got)
		if afterDash := slices.Contains(args, "--"); afterDash && len(b) == len(a)+1 {
			// A "--" may be added in front of the arguments it protects.
			b = slices.Delete(b, slices.Index(b, "--"), slices.Index(b, "--")+1)
		}
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("walkArgs(%q) = %q: not a reordering", args, got)
		}
		if got[0] != "appgen" {
			t.Fatalf("walkArgs(%q) = %q: the program name moved", args, got)
		}
		var positional []string
		for _, w := range args[1:] {
			if !strings.HasPrefix(w, "-") {
				positional = append(positional, w)
			}
		}
		var out []string
		for _, w := range got[1:] {
			if !strings.HasPrefix(w, "-") {
				out = append(out, w)
			}
		}
		// Flag values move with their flags, so compare only when no flag takes one.
		if !strings.Contains(line, "--module") && !strings.Contains(line, "--template") && !slices.Contains(args, "--") && !strings.Contains(line, "-o") && !strings.Contains(line, "--port") {
			if !slices.Equal(positional, out) {
				t.Fatalf("walkArgs(%q) = %q: the arguments changed order", args, got)
			}
		}
	})
}

func TestNearest(t *testing.T) {
	names := []string{"nginx", "apache", "apache-fcgid", "lighttpd", "systemd", "startproject", "config", "completion"}
	tests := map[string]string{
		"ngnix": "nginx", "nginxx": "nginx", "apach": "apache", "lighttp": "lighttpd", "systemctl": "systemd",
		"startprojct": "startproject", "conifg": "config", "x": "", "": "", "zzzzzzzz": "",
	}
	for word, want := range tests {
		if got := nearest(word, names); got != want {
			t.Errorf("nearest(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestExplainFlagError(t *testing.T) {
	tests := []struct {
		path, err, want string
	}{
		{"config nginx", `invalid value "abc" for flag -port: parse error`, `--port "abc": want a whole number`},
		{"config nginx", `invalid value "x" for flag -check: parse error`, `--check "x": want true or false`},
		{"startproject", `flag provided but not defined: -force`, `flag provided but not defined: -force`},
		{"", `invalid value "x" for flag -nosuch: parse error`, `--nosuch "x": want a valid value (parse error)`},
	}
	for _, tt := range tests {
		if got := explainFlagError(commands(), tt.path, errors.New(tt.err)).Error(); got != tt.want {
			t.Errorf("explainFlagError(%q, %q) = %q, want %q", tt.path, tt.err, got, tt.want)
		}
	}
}
