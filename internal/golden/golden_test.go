package golden

import (
	"os"
	"path/filepath"
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
