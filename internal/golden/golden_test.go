package golden

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeT records failures instead of failing.
type fakeT struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true }
func (f *fakeT) Fatal(...any)          { f.failed = true }

func TestGoldenCheck(t *testing.T) {
	name := filepath.Join(t.TempDir(), "sub", "g.txt")
	saved := *update
	defer func() { *update = saved }()
	*update = false
	f := &fakeT{TB: t}
	Check(f, name, []byte("a\nb\n"))
	if !f.failed {
		t.Error("a missing golden file passed")
	}
	*update = true
	Check(t, name, []byte("a\nb\n"))
	if b, err := os.ReadFile(name); err != nil || string(b) != "a\nb\n" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}
	*update = false
	for _, c := range []struct {
		got  string
		fail bool
	}{{"a\nb\n", false}, {"a\nc\n", true}, {"a\nb", true}, {"a\nb\n\n", true}} {
		f := &fakeT{TB: t}
		Check(f, name, []byte(c.got))
		if f.failed != c.fail {
			t.Errorf("%q: failed = %v, want %v", c.got, f.failed, c.fail)
		}
	}
}

// TestEveryPackageDefinesUpdate: go test ./... -run Golden -update
// passes -update to every test binary, and one that does not define it
// fails, so every package with tests must import this package.
func TestEveryPackageDefinesUpdate(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the packages")
	}
	cmd := exec.Command(goTool, "list", "-f", "{{.ImportPath}} {{len .TestGoFiles}} {{len .XTestGoFiles}} {{join .TestImports \",\"}},{{join .XTestImports \",\"}}", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "github.com/aekit/aekit/internal/golden"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] == self || (f[1] == "0" && f[2] == "0") {
			continue
		}
		if len(f) < 4 || !slices.Contains(strings.Split(f[3], ","), self) {
			t.Errorf("%s has tests but does not import %s: go test ./... -update fails there (add a golden_flag_test.go like internal/limits's)", f[0], self)
		}
	}
}
