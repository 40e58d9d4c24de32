package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	if err := os.WriteFile(a, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(a, filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, y string
		want bool
	}{
		{a, a, true}, {a, filepath.Join(dir, ".", "a"), true}, {a, filepath.Join(dir, "hard"), true},
		{filepath.Join(dir, "new"), filepath.Join(dir, "sub", "..", "new"), true},
		{a, filepath.Join(dir, "new"), false}, {filepath.Join(dir, "n1"), filepath.Join(dir, "n2"), false},
	} {
		if got := SameFile(c.x, c.y); got != c.want {
			t.Errorf("SameFile(%s, %s) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

func TestCheckOutputs(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "x.npy")
	if err := os.WriteFile(in, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, ck, csv := filepath.Join(dir, "m.keras"), filepath.Join(dir, "m.ckpt"), filepath.Join(dir, "h.csv")
	ok := []Output{{Label: "-o", Name: out}, {Label: "--checkpoint", Name: ck, Updates: ck}, {Label: "--history", Name: csv, Ext: ".csv"}, {Label: "--plot"}}
	if err := CheckOutputs(ok, in, ck, ""); err != nil {
		t.Fatalf("distinct outputs: %v", err)
	}
	for _, c := range []struct {
		outs   []Output
		inputs []string
		want   string
	}{
		{[]Output{{Label: "--history", Name: filepath.Join(dir, "h.txt"), Ext: ".csv"}}, nil, "--history " + filepath.Join(dir, "h.txt") + ": want a .csv file"},
		{[]Output{{Label: "-o", Name: filepath.Join(dir, "no", "m.keras")}}, nil, "-o "},
		{[]Output{{Label: "-o", Name: out}, {Label: "--checkpoint", Name: out}}, nil, "-o " + out + " and --checkpoint " + out + " name the same file"},
		{[]Output{{Label: "--checkpoint", Name: in}}, []string{in}, "--checkpoint " + in + " would overwrite the input " + in},
		{[]Output{{Label: "-o", Name: in, Updates: filepath.Join(dir, "other")}}, []string{in}, "would overwrite the input"},
	} {
		err := CheckOutputs(c.outs, c.inputs...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error containing %q", c.outs, err, c.want)
		}
	}
}
