package keras

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/h5"
	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// frozenNames returns the sorted names of m's frozen layers
// (runtime.Model.FrozenLayers).
func frozenNames(m *runtime.Model) []string {
	var out []string
	for l := range m.FrozenLayers() {
		out = append(out, l.Name)
	}
	sort.Strings(out)
	return out
}

// frozenLiveModel is 100-20(bn)-10 | 20(bn)-100 with the whole encoder
// frozen (a frozen nested model) and the decoder's first Dense layer
// frozen before a trainable BatchNormalization: the decoder's weights
// then sit in a legacy .h5 in Keras's order, trainable first (gamma,
// beta, the last kernel and bias), then the frozen kernel and bias and
// the moving statistics. Every BatchNormalization vector is random, so
// that a weight put in the wrong place shows in the outputs.
func frozenLiveModel(t *testing.T) *runtime.Model {
	t.Helper()
	m, err := train.Build(100, train.MustParseArch("20:relu:l2=1e-3:bn,10:relu|20:relu:bn,100:sigmoid"), "glorot_uniform", 5)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Other {
			for _, p := range l.Kind.Params() {
				for i := range p.Values {
					p.Values[i] = float32(0.5 + r.Float64())
				}
			}
		}
	})
	m.Layers[0].Frozen = true               // the encoder
	m.Layers[1].Sub.Layers[0].Frozen = true // the decoder's first Dense
	return m
}

// TestFrozenRoundTrip writes a model with frozen layers to .keras and .h5
// and reads it back: the same layers are frozen (a frozen nested model
// freezing its layers), every weight is where it was, and the .h5 lists
// the decoder's weights in Keras's legacy order.
func TestFrozenRoundTrip(t *testing.T) {
	m := frozenLiveModel(t)
	want := frozenNames(m)
	if len(want) != 5 { // encoder, its 3 layers (dense, bn, dense), the decoder's dense
		t.Fatalf("frozen %v", want)
	}
	for _, f := range []Format{FormatKeras, FormatH5} {
		var b bytes.Buffer
		if err := Write(&b, m, f); err != nil {
			t.Fatal(err)
		}
		got, _, err := Read(bytes.NewReader(b.Bytes()), nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		names := frozenNames(got)
		if f == FormatH5 {
			// tf-keras's layout has no trainable key for a model:
			// its layers carry it.
			want := slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == m.Layers[0].Name })
			if !slices.Equal(names, want) {
				t.Errorf("%s: frozen %v, want %v", f, names, want)
			}
		} else if !slices.Equal(names, want) {
			t.Errorf("%s: frozen %v, want %v", f, names, want)
		}
		if got.TrainableParams() != m.TrainableParams() || got.Params() != m.Params() {
			t.Errorf("%s: %d of %d values trainable, want %d of %d", f, got.TrainableParams(), got.Params(), m.TrainableParams(), m.Params())
		}
		x := make([]float32, 3*100)
		for i := range x {
			x[i] = float32(i%17) / 17
		}
		p0, _ := m.Predict(nil, x)
		p1, _ := got.Predict(nil, x)
		if !slices.Equal(p0, p1) {
			t.Errorf("%s: predictions differ after the round trip", f)
		}
		if f != FormatH5 {
			continue
		}
		hf, err := h5.Open(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		dec := m.Layers[1].Sub
		wn, err := hf.AttrStrings("/model_weights/"+m.Layers[1].Name, "weight_names")
		if err != nil {
			t.Fatal(err)
		}
		d1, bn, d2 := dec.Layers[0].Name, dec.Layers[1].Name, dec.Layers[2].Name
		order := []string{bn + "/gamma:0", bn + "/beta:0", d2 + "/kernel:0", d2 + "/bias:0", d1 + "/kernel:0", d1 + "/bias:0",
			bn + "/moving_mean:0", bn + "/moving_variance:0"}
		if !slices.Equal(wn, order) {
			t.Errorf("decoder weight_names\n%v, want Keras's order\n%v", wn, order)
		}
	}
}

// TestRealFrozen reads the real files whose nested models are frozen:
// tf-keras 2.10's GAN (sequential_3's Dense layers trainable=false, the
// model itself without the key) and Keras 3.4.1's legacy .h5 GAN
// (sequential_1 and its layers trainable=false).
func TestRealFrozen(t *testing.T) {
	dir := sharedDir(t)
	for _, c := range []struct {
		file   string
		frozen []string
	}{
		{"k2_nested_seq_gan_hrithik.h5", []string{"dense_4", "dense_5"}},
		{"k3_nested_gan_legacy_shivu.h5", []string{"dense_3", "dense_4", "dense_5", "sequential_1"}},
	} {
		m, _, err := ReadFile(filepath.Join(dir, c.file), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if got := frozenNames(m); !slices.Equal(got, c.frozen) {
			t.Errorf("%s: frozen %v, want %v", c.file, got, c.frozen)
		}
	}
}

// TestKerasLoadsFrozen has real Keras load, live, the files aekit writes
// for a model with frozen layers (frozenLiveModel; .keras and .h5 by
// Keras 3, .h5 by tf-keras), and the real frozen GANs aekit reads: each
// layer's trainable must be what aekit has (interop.KerasResult.Problems),
// model.trainable_weights must hold the values aekit trains, predict must
// agree (normwise 1e-6), and Keras must fit the written files.
func TestKerasLoadsFrozen(t *testing.T) {
	dir := t.TempDir()
	m := frozenLiveModel(t)
	x := make([]float32, 3*100)
	r := rand.New(rand.NewPCG(8, 9))
	for i := range x {
		x[i] = float32(r.Float64())
	}
	in := filepath.Join(dir, "in.npy")
	if err := npy.WriteFile(in, &npy.Array{Shape: []int{3, 100}, Data: x}); err != nil {
		t.Fatal(err)
	}
	type job struct {
		m *runtime.Model
		c interop.KerasCase
	}
	var jobs []job
	for _, ext := range []string{".keras", ".h5"} {
		file := filepath.Join(dir, "frozen"+ext)
		if err := WriteFile(file, m); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, job{m, interop.KerasCase{File: file, Loader: interop.Keras3, Input: in, Fit: true}})
		if ext == ".h5" {
			jobs = append(jobs, job{m, interop.KerasCase{File: file, Loader: interop.TFKeras, Input: in, Fit: true}})
		}
	}
	shared := sharedDir(t)
	for _, c := range []struct {
		file   string
		width  int
		loader []string
	}{
		{"k2_nested_seq_gan_hrithik.h5", 2, []string{interop.Keras3, interop.TFKeras}},
		{"k3_nested_gan_legacy_shivu.h5", 100, []string{interop.Keras3}},
	} {
		file := filepath.Join(shared, c.file)
		rm, _, err := ReadFile(file, nil)
		if err != nil {
			t.Fatal(err)
		}
		xin := filepath.Join(dir, c.file+".in.npy")
		xr := make([]float32, 4*c.width)
		for i := range xr {
			xr[i] = float32(r.Float64()*2 - 1)
		}
		if err := npy.WriteFile(xin, &npy.Array{Shape: []int{4, c.width}, Data: xr}); err != nil {
			t.Fatal(err)
		}
		for _, l := range c.loader {
			jobs = append(jobs, job{rm, interop.KerasCase{File: file, Loader: l, Input: xin}})
		}
	}
	cases := make([]interop.KerasCase, len(jobs))
	for i, j := range jobs {
		cases[i] = j.c
	}
	res := interop.KerasLoad(t, cases)
	for i, j := range jobs {
		input, _ := npy.ReadFile(j.c.Input)
		want, err := j.m.Predict(nil, input.Data)
		if err != nil {
			t.Fatal(err)
		}
		what := filepath.Base(j.c.File) + " by " + j.c.Loader
		if res[i].TrainableParams == nil {
			t.Errorf("%s: no trainable_params in the result", what)
		}
		if p := res[i].Problems(j.m, want, 1e-6, j.c.Fit); len(p) > 0 {
			t.Errorf("%s:\n\t%s", what, strings.Join(p, "\n\t"))
			continue
		}
		t.Logf("%s: %d of %d values trainable as in aekit, layers' trainable as in aekit, predict normwise %.2g", what,
			*res[i].TrainableParams, res[i].CountParams, res[i].Normwise(want))
	}
	_ = os.Remove(in)
}
