package benchset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFLOPs checks the FLOP counts of the models against the layer
// widths written out by hand.
func TestFLOPs(t *testing.T) {
	want := map[string][2]float64{ // infer, train per sample
		"seed":  {2 * (100*10 + 10*10 + 10*100 + 100*100), 3*2*(100*10+10*10+10*100+100*100) - 2*100*10},
		"ae784": {2 * (784*32 + 32*784), 3*2*(784*32+32*784) - 2*784*32},
		"deep": {2 * (784*128 + 128*64 + 64*32 + 32*64 + 64*128 + 128*784),
			3*2*(784*128+128*64+64*32+32*64+64*128+128*784) - 2*784*128},
	}
	for _, s := range All() {
		if got := [2]float64{s.InferFLOPs(), s.TrainFLOPs()}; got != want[s.Name] {
			t.Errorf("%s: FLOPs %v, want %v", s.Name, got, want[s.Name])
		}
	}
	if len(All()) != len(want) {
		t.Errorf("%d models, want %d", len(All()), len(want))
	}
}

// TestLookup checks names and widths.
func TestLookup(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "seed,ae784,deep" {
		t.Errorf("Names() = %s", got)
	}
	m, ok := Lookup("deep")
	if !ok || len(m.Widths()) != 7 || m.Widths()[6] != 784 {
		t.Errorf("deep: %+v %v", m, m.Widths())
	}
	if _, ok := Lookup("big"); ok {
		t.Error("Lookup(big) found a model")
	}
}

// TestRows checks the random fallback (deterministic, in [0, 1)) and, when
// Debian's dataset-fashion-mnist is installed, the Fashion-MNIST rows.
func TestRows(t *testing.T) {
	a, src, err := Rows(t.TempDir(), 784, 3)
	if err != nil || !strings.HasPrefix(src, "uniform random") {
		t.Fatalf("empty folder: %q %v", src, err)
	}
	b, _, _ := Rows("", 784, 3)
	for i := range a {
		if a[i] != b[i] || a[i] < 0 || a[i] >= 1 {
			t.Fatalf("random rows differ or leave [0, 1): %v %v", a[i], b[i])
		}
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, FashionTrain), []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Rows(bad, 784, 3); err == nil {
		t.Error("a malformed IDX file: no error")
	}
	if _, err := os.Stat(filepath.Join(FashionDir, FashionTrain)); err != nil {
		t.Logf("Fashion-MNIST rows not checked: %v", err)
		return
	}
	x, src, err := Rows(FashionDir, 784, 60001)
	if err != nil || !strings.HasPrefix(src, "Fashion-MNIST") {
		t.Fatalf("%q %v", src, err)
	}
	for j := 0; j < 784; j++ {
		if x[60000*784+j] != x[j] {
			t.Fatal("row 60000 is not row 0 again")
		}
	}
}
