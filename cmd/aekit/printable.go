package main

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printable returns s with every rune a terminal could act on escaped as
// in a Go string literal: C0 and C1 control characters, DEL, other
// non-printing runes (such as bidirectional overrides) and bytes that are
// not UTF-8. Letters, marks, digits, punctuation and symbols of any
// script, and the ASCII space, are kept as they are.
//
// Strings read from files (layer names, classes, producer and version
// strings, error messages quoting them) pass through printable before
// they reach the terminal, so that a hostile file can neither split a
// line nor send escape sequences.
func printable(s string) string {
	i := strings.IndexFunc(s, needsEscape)
	if i < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[0])|0x100, 16)[1:])
		case needsEscape(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}

// needsEscape tells whether printable escapes r.
func needsEscape(r rune) bool {
	return r != ' ' && !unicode.IsPrint(r)
}
