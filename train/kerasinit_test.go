package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/runtime"
)

// kerasNormal lists the initializers whose values may differ from
// Keras's in the last bits: TensorFlow's Box–Muller takes logf and
// sincosf from the C library (glibc's are not correctly rounded: logf up
// to 0.82 ulp), InitializeKeras correctly rounded float64 results. Their
// values must agree within kerasNormalTol relative (measured: 1.1–1.7%
// of the values differ, by up to 4 ulp, ≤ 4.8e-7 relative).
var kerasNormal = map[string]bool{"glorot_normal": true, "he_normal": true, "lecun_normal": true, "random_normal": true}

// kerasNormalTol is the largest |Δw|/|w| allowed for the normal
// initializers.
const kerasNormalTol = 1e-6

// ulps is the distance between a and b in units in the last place.
func ulps(a, b float32) int {
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if (ia < 0x80000000) != (ib < 0x80000000) {
		return math.MaxInt32
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return int(d)
}

// TestKerasSeed builds models with real Keras 3 on TensorFlow after
// keras.utils.set_random_seed(N) (fixtures/train/keras_seed.py, run live)
// and checks that InitializeKeras gives the same weights: bit for bit for
// the uniform initializers, zeros and ones; within kerasNormalTol for the
// normal ones (see kerasNormal). It also checks that the seed each layer's
// initializer drew is the one pyRandom draws.
func TestKerasSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running Keras")
	}
	py := interop.Python(t, "keras", "tensorflow")
	type kcase struct {
		Name   string  `json:"name"`
		Seed   int64   `json:"seed"`
		Init   string  `json:"init"`
		Layers [][]any `json:"layers"`
		Split  int     `json:"split"`
		Input  int     `json:"input"`
		spec   string
	}
	models := []struct {
		name, spec string
		input      int
		layers     [][]any
		split      int
	}{
		{"seed", "10:relu,10:relu|100:sigmoid,100:sigmoid", 100, [][]any{{10, "relu"}, {10, "relu"}, {100, "sigmoid"}, {100, "sigmoid"}}, 2},
		{"ae784", "32:relu|784:sigmoid", 784, [][]any{{32, "relu"}, {784, "sigmoid"}}, 1},
	}
	var cases []kcase
	for _, init := range KerasSeedInitializers() {
		for _, seed := range []int64{0, 1, 42, 1234, 1<<32 - 1} {
			for _, m := range models {
				if m.name == "ae784" && seed != 42 {
					continue
				}
				cases = append(cases, kcase{Name: fmt.Sprintf("%s_%s_%d", m.name, init, seed), Seed: seed, Init: init,
					Layers: m.layers, Split: m.split, Input: m.input, spec: m.spec})
			}
		}
	}
	dir := t.TempDir()
	b, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	cf := filepath.Join(dir, "cases.json")
	if err := os.WriteFile(cf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	interop.Run(t, py, filepath.Join("..", "fixtures", "train", "keras_seed.py"), cf, dir)
	var seeds struct {
		Keras string              `json:"keras"`
		Seeds map[string][]*int64 `json:"seeds"`
	}
	sb, err := os.ReadFile(filepath.Join(dir, "seeds.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(sb, &seeds); err != nil {
		t.Fatal(err)
	}
	t.Logf("judge: Keras %s", seeds.Keras)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			m, err := buildSpec(c.Input, c.spec, "zeros", 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := InitializeKeras(m, Initializer(c.Init), c.Seed); err != nil {
				t.Fatal(err)
			}
			// The seeds drawn.
			r := newPyRandom(uint64(c.Seed))
			for i, s := range seeds.Seeds[c.Name] {
				if s == nil {
					continue
				}
				if got := r.randint(1, 1_000_000_000); got != *s {
					t.Errorf("layer %d: Keras's initializer seed %d, pyRandom %d", i, *s, got)
				}
			}
			var got [][]float32
			m.Walk(func(_ []string, l *runtime.Layer) {
				if l.Type == runtime.Dense {
					got = append(got, l.Kernel, l.Bias)
				}
			})
			npz := filepath.Join(dir, c.Name+".npz")
			all, allDiff, worstULP := 0, 0, 0
			defer func() {
				if kerasNormal[c.Init] {
					t.Logf("%d of %d values (%.2g%%) differ, by up to %d ulp", allDiff, all, 100*float64(allDiff)/float64(all), worstULP)
				}
			}()
			for i, g := range got {
				want, err := npy.ReadFileArray(npz, fmt.Sprintf("w%d", i))
				if err != nil {
					t.Fatal(err)
				}
				if len(want.Data) != len(g) {
					t.Fatalf("tensor %d: %d values, Keras %d", i, len(g), len(want.Data))
				}
				diff, first, maxULP, maxRel := 0, -1, 0, 0.0
				for j, v := range want.Data {
					if math.Float32bits(v) != math.Float32bits(g[j]) {
						diff++
						if first < 0 {
							first = j
						}
						maxULP = max(maxULP, ulps(v, g[j]))
						worstULP = max(worstULP, maxULP)
						maxRel = max(maxRel, math.Abs(float64(v)-float64(g[j]))/math.Abs(float64(v)))
					}
				}
				allDiff += diff
				all += len(g)
				switch {
				case diff == 0:
				case !kerasNormal[c.Init]:
					t.Errorf("tensor %d: %d of %d values differ in their bits; first at %d: aekit %g, Keras %g", i, diff, len(g), first, g[first], want.Data[first])
				case !(maxRel <= kerasNormalTol):
					t.Errorf("tensor %d: %d of %d values differ, by up to %d ulp, %.2g relative (normal initializers: at most %g); first at %d: aekit %g, Keras %g",
						i, diff, len(g), maxULP, maxRel, kerasNormalTol, first, g[first], want.Data[first])
				}
			}
		})
	}
}
