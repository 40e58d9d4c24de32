package activation

import "testing"

// TestNames checks that every function has a distinct name that Lookup
// maps back to it, and that Names lists exactly those and "silu".
func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for f := Func(0); f < NumFuncs; f++ {
		n := f.String()
		if n == "" || seen[n] {
			t.Fatalf("Func(%d) has name %q (empty or repeated)", f, n)
		}
		seen[n] = true
		if g, ok := Lookup(n); !ok || g != f {
			t.Errorf("Lookup(%q) = %v, %v; want %v", n, g, ok, f)
		}
	}
	if got := len(Names()); got != int(NumFuncs)+1 {
		t.Errorf("Names() has %d names, want %d", got, NumFuncs+1)
	}
	if s := NumFuncs.String(); s != "Func(17)" {
		t.Errorf("invalid Func prints %q", s)
	}
}

// TestInPlace checks which functions may overwrite their input.
func TestInPlace(t *testing.T) {
	for _, c := range []struct {
		a    Activation
		want bool
	}{
		{Activation{Func: Sigmoid}, true},
		{Activation{Func: Tanh}, true},
		{Activation{Func: ReLU}, true},
		{Activation{Func: ReLU, Alpha: 0.1}, false},
		{Activation{Func: ReLU, Capped: true, MaxValue: 6}, false},
		{Activation{Func: ReLU, Threshold: 1}, false},
		{Activation{Func: ELU, Alpha: 1}, false},
		{Activation{}, false},
	} {
		if got := c.a.InPlace(); got != c.want {
			t.Errorf("%v.InPlace() = %v, want %v", c.a, got, c.want)
		}
	}
}
