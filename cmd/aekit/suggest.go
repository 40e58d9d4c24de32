package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// closest returns the candidate nearest to s by edit distance, if it is
// near enough to be a typo (at most 2 edits, and fewer than half of s's
// letters), or a candidate that s is a prefix of; "" otherwise.
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD && 2*d < max(len(s), 2) {
			best, bestD = c, d
		}
	}
	if best == "" && len(s) >= 3 {
		for _, c := range candidates {
			if strings.HasPrefix(c, s) {
				return c
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// flagError prints a flag parsing error of command name as one line,
// with a "did you mean" line for an undefined flag close to a defined
// one, and where to find the flags, instead of the whole usage.
func flagError(w io.Writer, fs *flag.FlagSet, err error) {
	fmt.Fprintf(w, "%s: %v\n", fs.Name(), err)
	const undefined = "flag provided but not defined: -"
	if msg := err.Error(); strings.HasPrefix(msg, undefined) {
		name := strings.TrimLeft(strings.TrimPrefix(msg, undefined), "-")
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if c := closest(name, names); c != "" {
			dashes := "--"
			if len(c) == 1 {
				dashes = "-"
			}
			fmt.Fprintf(w, "did you mean %s%s?\n", dashes, c)
		}
	}
	fmt.Fprintf(w, "run \"%s --help\" for its flags\n", fs.Name())
}
