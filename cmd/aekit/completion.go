package main

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
)

const completionSynopsis = `bash|zsh|fish

Prints a shell completion script for aekit's commands and their flags
(file names complete as usual). Load it with, for bash:
  source <(aekit completion bash)        (or save it to
                                          ~/.local/share/bash-completion/completions/aekit)
zsh:
  source <(aekit completion zsh)
fish:
  aekit completion fish > ~/.config/fish/completions/aekit.fish`

func cmdCompletion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("completion", completionSynopsis, stderr)
	pos, code, done := parseCommand(fs, args, 1, 1, stdout, stderr)
	if done {
		return code
	}
	cmds := completionCommands()
	switch pos[0] {
	case "bash":
		fmt.Fprint(stdout, bashCompletion(cmds))
	case "zsh":
		fmt.Fprint(stdout, "# aekit completion for zsh, through bash's\nautoload -U +X bashcompinit && bashcompinit\n"+bashCompletion(cmds))
	case "fish":
		fmt.Fprint(stdout, fishCompletion(cmds))
	default:
		return fail(stderr, "completion", fmt.Errorf("unknown shell %q (want bash, zsh or fish)", pos[0]))
	}
	return exitOK
}

// completionCommand is a command with the names of its flags.
type completionCommand struct {
	name  string
	flags []string
	bools map[string]bool // flags that take no value
}

// completionCommands lists the commands and their flags, read from each
// command's own --help so that the lists cannot drift from the flags.
func completionCommands() []completionCommand {
	var out []completionCommand
	for _, c := range commands() {
		cc := completionCommand{name: c.name, bools: map[string]bool{}}
		if c.name != "version" && c.name != "completion" {
			var o, e bytes.Buffer
			c.run([]string{"--help"}, &o, &e)
			for _, line := range strings.Split(o.String(), "\n") {
				if strings.HasPrefix(line, "  -") {
					// "  -name TYPE\tusage" or, for a boolean, "  -name".
					head, _, _ := strings.Cut(strings.TrimPrefix(line, "  -"), "\t")
					name, typ, _ := strings.Cut(head, " ")
					cc.flags = append(cc.flags, name)
					if strings.TrimSpace(typ) == "" {
						cc.bools[name] = true
					}
				}
			}
		}
		sort.Strings(cc.flags)
		out = append(out, cc)
	}
	return out
}

// dashed returns a flag as typed: -o for one letter, --name otherwise.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func bashCompletion(cmds []completionCommand) string {
	var b strings.Builder
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	b.WriteString("# aekit completion for bash (aekit completion bash)\n_aekit() {\n")
	// ${COMP_WORDS[@]:i:1} is word i counted from 0 in bash and in zsh
	// (where bashcompinit runs this function and arrays count from 1).
	b.WriteString("\tlocal cur=${COMP_WORDS[@]:$COMP_CWORD:1} sub=${COMP_WORDS[@]:1:1} flags=\n")
	fmt.Fprintf(&b, "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn\n\tfi\n", strings.Join(names, " ")+" --help --version")
	b.WriteString("\tcase $sub in\n")
	for _, c := range cmds {
		var fl []string
		for _, f := range c.flags {
			fl = append(fl, dashed(f))
		}
		if c.name == "completion" {
			fl = append(fl, "bash", "zsh", "fish")
		}
		fmt.Fprintf(&b, "\t%s) flags=%q ;;\n", c.name, strings.Join(fl, " "))
	}
	b.WriteString("\tesac\n")
	b.WriteString("\tif [[ $cur == -* || $sub == completion ]]; then\n\t\tCOMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n\telse\n\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n\tfi\n}\n")
	b.WriteString("complete -o default -F _aekit aekit\n")
	return b.String()
}

func fishCompletion(cmds []completionCommand) string {
	var b strings.Builder
	b.WriteString("# aekit completion for fish (aekit completion fish)\ncomplete -c aekit -f\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "complete -c aekit -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(c.summary))
	}
	for _, c := range cmds {
		for _, f := range c.flags {
			opt := "-l " + f
			if len(f) == 1 {
				opt = "-s " + f
			}
			if !c.bools[f] {
				opt += " -r -F" // takes a value, often a file
			}
			fmt.Fprintf(&b, "complete -c aekit -n '__fish_seen_subcommand_from %s' %s\n", c.name, opt)
		}
		if c.name != "completion" && c.name != "version" {
			fmt.Fprintf(&b, "complete -c aekit -n '__fish_seen_subcommand_from %s' -F\n", c.name)
		}
	}
	b.WriteString("complete -c aekit -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'\n")
	return b.String()
}

// fishQuote quotes s for fish, in single quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}
