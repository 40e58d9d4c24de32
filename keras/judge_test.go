package keras

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/runtime"
)

// judgeDir holds the models real Keras 3 and tf-keras 2 saved, with the
// outputs Keras computed (fixtures/keras/judge/gen.py).
const judgeDir = fixtures + "/judge"

// judgeEntry is one model file of judge/manifest.json.
type judgeEntry struct {
	File   string  `json:"file"`
	Arch   *string `json:"arch"`
	Writer string  `json:"writer"`
	Layout string  `json:"layout"`
	Model  string  `json:"model"`
	Input  string  `json:"input"`
	// Outputs maps "" (the whole model) and the names of nested models
	// to .npy files of their outputs on Input.
	Outputs map[string]string `json:"outputs"`
}

func readJudgeManifest(t testing.TB) []judgeEntry {
	t.Helper()
	return readManifestIn(t, judgeDir)
}

// readManifestIn reads the manifest.json of a folder of Keras-written
// fixtures (judge, family).
func readManifestIn(t testing.TB, dir string) []judgeEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var es []judgeEntry
	if err := json.Unmarshal(b, &es); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(es) == 0 {
		t.Fatal("manifest.json lists no files")
	}
	return es
}

// readJudge loads the model of e, the way a user would: with its
// architecture file when the layout holds weights only; opt adds
// Options.Model.
func readJudge(t testing.TB, e judgeEntry, model string) (*runtime.Model, *Info) {
	t.Helper()
	return readJudgeIn(t, judgeDir, e, model)
}

// readJudgeIn is readJudge for a file in dir.
func readJudgeIn(t testing.TB, dir string, e judgeEntry, model string) (*runtime.Model, *Info) {
	t.Helper()
	opt := &Options{Model: model}
	if e.Arch != nil {
		opt.Arch = filepath.Join(dir, *e.Arch)
	}
	m, info, err := ReadFile(filepath.Join(dir, e.File), opt)
	if err != nil {
		t.Fatal(err)
	}
	return m, info
}

// leads reports whether the nested model sub is where m starts: its first
// layer, or the first layer of m's first nested model, and so on. Loaded
// alone (Options.Model), such a model takes m's input.
func leads(m *runtime.Model, sub string) bool {
	if len(m.Layers) == 0 {
		return false
	}
	l := m.Layers[0]
	return l.Name == sub || l.Type == runtime.SubModel && leads(l.Sub, sub)
}

// judge bounds, against Keras's own outputs: normwise max|Δ|/max|want|,
// and element-wise |Δ| ≤ atol + rtol·|want| (README "Testing").
const judgeNormwise = 1e-6

// TestKerasJudge loads every model real Keras saved (every layout, both
// writers) and compares aekit's forward pass with Keras's model.predict:
// the whole model, and each nested model both cut out of the whole one
// (Until) and, when it takes the model's input, loaded alone
// (Options.Model).
func TestKerasJudge(t *testing.T) { judgeFolder(t, judgeDir) }

// judgeFolder is TestKerasJudge for the fixtures in dir.
func judgeFolder(t *testing.T, dir string) {
	type stat struct{ norm, elem float64 }
	worst := map[string]*stat{} // by writer and layout
	for _, e := range readManifestIn(t, dir) {
		t.Run(e.File, func(t *testing.T) {
			if len(e.Outputs) == 0 || e.Outputs[""] == "" {
				t.Fatal("no whole-model output listed")
			}
			m, info := readJudgeIn(t, dir, e, "")
			if string(info.Format) != e.Layout {
				t.Errorf("format %q, manifest says %q", info.Format, e.Layout)
			}
			wantMajor := 3
			if strings.HasPrefix(e.Writer, "tf_keras 2") {
				wantMajor = 2
			}
			if info.Major != wantMajor {
				t.Errorf("Keras major %d, want %d (writer %s, version %q)", info.Major, wantMajor, e.Writer, info.KerasVersion)
			}
			x, _ := readNpy(t, filepath.Join(dir, e.Input))
			subs := make([]string, 0, len(e.Outputs))
			for k := range e.Outputs {
				subs = append(subs, k)
			}
			sort.Strings(subs)
			key := e.Writer + " " + e.Layout
			if worst[key] == nil {
				worst[key] = &stat{}
			}
			for _, sub := range subs {
				want, _ := readNpy(t, filepath.Join(dir, e.Outputs[sub]))
				runs := map[string]*runtime.Model{"": m}
				if sub != "" {
					cut, err := m.Until(sub)
					if err != nil {
						t.Fatal(err)
					}
					runs = map[string]*runtime.Model{"Until": cut}
					if leads(m, sub) {
						// Loaded alone, it takes the same input.
						runs["Options.Model"], _ = readJudgeIn(t, dir, e, sub)
					}
				}
				for how, r := range runs {
					got, err := r.Predict(nil, x)
					if err != nil {
						t.Fatalf("%s %s: %v", sub, how, err)
					}
					what := strings.TrimSpace(fmt.Sprintf("%s %s", sub, how))
					if what == "" {
						what = "model"
					}
					nw := conformance.Normwise(got, want)
					el := conformance.ElementRel(got, want, atol, rtol)
					if nw > judgeNormwise || math.IsNaN(nw) {
						t.Errorf("%s: normwise error %.3g > %g", what, nw, judgeNormwise)
					}
					if err := conformance.Compare(got, want, atol, rtol); err != nil {
						t.Errorf("%s: element-wise: %v", what, err)
					}
					t.Logf("%s: normwise %.3g, element-wise %.3g of the bound", what, nw, el)
					worst[key].norm = math.Max(worst[key].norm, nw)
					worst[key].elem = math.Max(worst[key].elem, el)
				}
			}
		})
	}
	keys := make([]string, 0, len(worst))
	for k := range worst {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-28s max normwise %.3g, max element-wise %.3g of 1e-6+1e-5·|want|", k, worst[k].norm, worst[k].elem)
	}
}
