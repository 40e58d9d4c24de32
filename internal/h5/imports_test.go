package h5

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoFileAccess: the reader cannot open another file because it does
// not import anything that could (nor unsafe or cgo).
func TestNoFileAccess(t *testing.T) {
	banned := map[string]bool{"os": true, "syscall": true, "io/fs": true, "io/ioutil": true, "net": true,
		"os/exec": true, "plugin": true, "unsafe": true, "C": true, "path/filepath": true}
	files, _ := filepath.Glob("*.go")
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		n++
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if banned[p] {
				t.Errorf("%s imports %s", name, p)
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d source files checked", n)
	}
}
