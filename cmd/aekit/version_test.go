package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/version"
)

func TestVersion(t *testing.T) {
	want := "aekit " + version.String() + " ("
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}, {"-version"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errb.String())
		}
		if !strings.HasPrefix(out.String(), want) || strings.Count(out.String(), "\n") != 1 || errb.Len() != 0 {
			t.Errorf("%v: stdout %q, stderr %q; want one line starting %q", args, out.String(), errb.String(), want)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"version", "extra"}, &out, &errb); code != exitUsage || out.Len() != 0 {
		t.Errorf("version extra: exit %d, stdout %q; want 2 and nothing", code, out.String())
	}
}
