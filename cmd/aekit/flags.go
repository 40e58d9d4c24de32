package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/aekit/aekit/internal/limits"
)

// newFlagSet returns a flag set for the named command whose usage text
// starts with synopsis and lists the flags.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("aekit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: aekit %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args allowing flags before, between and after the
// positional arguments, and returns the positional ones. Everything after
// "--" is positional.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		i := indexOf(args, "--")
		head := args
		if i >= 0 {
			head = args[:i]
		}
		if err := fs.Parse(head); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			if i >= 0 {
				pos = append(pos, args[i+1:]...)
			}
			return pos, nil
		}
		pos = append(pos, rest[0])
		consumed := len(head) - len(rest) + 1
		args = args[consumed:]
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// parseCommand parses args with fs, wanting between min and max positional
// arguments (max < 0: no limit). It returns done=true with the exit code
// to return when parsing ended the command (help or a usage error).
func parseCommand(fs *flag.FlagSet, args []string, min, max int, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}     // printed below, once, to the right stream
	fs.SetOutput(io.Discard) // the error too, in one line
	pos, err := parseFlags(fs, args)
	fs.Usage = usage
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return nil, exitOK, true
	}
	if err != nil {
		flagError(stderr, fs, err)
		return nil, exitUsage, true
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		want := fmt.Sprintf("%d", min)
		switch {
		case max < 0:
			want = fmt.Sprintf("at least %d", min)
		case max != min:
			want = fmt.Sprintf("%d to %d", min, max)
		}
		fmt.Fprintf(stderr, "%s: want %s argument(s), got %d: %s\n", fs.Name(), want, len(pos), strings.Join(pos, " "))
		fs.Usage()
		return nil, exitUsage, true
	}
	return pos, exitOK, false
}

// maxMessage bounds an error line, in bytes.
const maxMessage = 2000

// fail prints "aekit cmd: err" on stderr, on one line, and returns
// exitUsage. A resource limit's error says how to raise it.
func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "aekit %s: %s\n", cmd, errorLine(limitHint(err)))
	return exitUsage
}

// errorLine returns err's message as one line fit for a terminal: the
// lines of a multi-line message joined by spaces, every other control
// character escaped (printable), and bounded, since names and tokens from
// a hostile file can be megabytes long.
func errorLine(err error) string {
	return limits.Truncate(printable(strings.ReplaceAll(err.Error(), "\n", " ")), maxMessage)
}
