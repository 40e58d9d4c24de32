package main

import (
	"bytes"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseFlagsInterleaved(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		pos     []string
		i, o    string
		verbose bool
	}{
		{[]string{"m.h5", "-i", "x.npy", "-o", "y.npy"}, []string{"m.h5"}, "x.npy", "y.npy", false},
		{[]string{"-i", "x.npy", "m.h5", "--o=y.npy"}, []string{"m.h5"}, "x.npy", "y.npy", false},
		{[]string{"a", "-v", "b", "-i", "x"}, []string{"a", "b"}, "x", "", true},
		{[]string{"-i", "x", "--", "-o", "z"}, []string{"-o", "z"}, "x", "", false},
		{nil, nil, "", "", false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		i := fs.String("i", "", "")
		o := fs.String("o", "", "")
		v := fs.Bool("v", false, "")
		pos, err := parseFlags(fs, tc.args)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if !reflect.DeepEqual(pos, tc.pos) || *i != tc.i || *o != tc.o || *v != tc.verbose {
			t.Errorf("%q: got pos=%q i=%q o=%q v=%v, want %q %q %q %v", tc.args, pos, *i, *o, *v, tc.pos, tc.i, tc.o, tc.verbose)
		}
	}
}

func TestUsageExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string // substring of stdout+stderr
	}{
		{nil, exitUsage, "Commands:"},
		{[]string{"--help"}, exitOK, "Commands:"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"inspect", "--help"}, exitOK, "usage: aekit inspect"},
		{[]string{"predict", "--help"}, exitOK, "usage: aekit predict"},
		{[]string{"check", "--help"}, exitOK, "usage: aekit check"},
		{[]string{"convert", "--help"}, exitOK, "usage: aekit convert"},
		{[]string{"train", "--help"}, exitOK, "usage"},
		{[]string{"bench", "--help"}, exitOK, "usage"},
		{[]string{"inspect"}, exitUsage, "want 1 argument"},
		{[]string{"convert", "a.h5"}, exitUsage, "want 2 argument"},
		{[]string{"predict", "m.h5", "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"predict", "m.h5"}, exitUsage, "-i and -o are required"},
		{[]string{"inspect", "/nonexistent/model.h5"}, exitUsage, "/nonexistent/model.h5"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		all := stdout.String() + stderr.String()
		if code != tc.code || !strings.Contains(all, tc.out) {
			t.Errorf("aekit %q: exit %d, want %d; output %q does not contain %q", tc.args, code, tc.code, all, tc.out)
		}
	}
}
