package command

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The scripts ask appgen itself for candidates (urfave's --generate-bash-completion), so
// they stay right as commands and flags change.
const bashCompletion = `# bash completion for appgen; load with: source <(appgen completion bash)
_appgen_complete() {
	local cur="${COMP_WORDS[COMP_CWORD]}"
	local words
	if [[ "$cur" == -* ]]; then
		# urfave turns completion off after a literal "--", so "-" asks for every flag.
		local flag="$cur"
		[[ "$flag" == "--" ]] && flag="-"
		words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$flag" --generate-bash-completion 2>/dev/null)
	else
		words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:COMP_CWORD-1}" --generate-bash-completion 2>/dev/null)
	fi
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _appgen_complete appgen
`

const zshCompletion = `# zsh completion for appgen; load with: source <(appgen completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
` + bashCompletion

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash or zsh)",
		ArgsUsage: "bash|zsh",
		Description: "Load completion into the current shell with\n\n" +
			"   source <(appgen completion bash)\n\n" +
			"or add that line to ~/.bashrc (~/.zshrc with zsh).",
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{cmd: "completion", err: err}
		},
		BashComplete: func(c *cli.Context) {
			fmt.Fprintln(c.App.Writer, "bash")
			fmt.Fprintln(c.App.Writer, "zsh")
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("completion", "completion takes one argument, bash or zsh; got %d", c.NArg())
			}
			switch shell := c.Args().First(); shell {
			case "bash":
				fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				fmt.Fprint(c.App.Writer, zshCompletion)
			default:
				return usagef("completion", "unknown shell %q; want bash or zsh", shell)
			}
			return nil
		},
	}
}
