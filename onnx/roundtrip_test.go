package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/runtime"
)

// opsets are the opsets the conformance round trip runs at: the default,
// the extremes, and each opset where the export changes (Mish at 18, Gelu
// at 20).
var opsets = []int{MinOpset, 13, 17, 18, 20, MaxOpset}

func TestConformanceRoundTrip(t *testing.T) {
	for _, opset := range opsets {
		t.Run(fmt.Sprint("opset", opset), func(t *testing.T) {
			conformance.RoundTrip(t, func(m *runtime.Model) (*runtime.Model, error) {
				var buf bytes.Buffer
				if err := Write(&buf, m, &ExportOptions{Opset: opset}); err != nil {
					return nil, err
				}
				got, info, err := Read(&buf)
				if err != nil {
					return nil, err
				}
				if info.Opset != int64(opset) || info.IRVersion != IRVersion(opset) || info.Producer != ProducerName {
					return nil, fmt.Errorf("info %+v", info)
				}
				if err := sameStructure(got, m); err != nil {
					return nil, err
				}
				return got, nil
			}, conformance.Options{})
		})
	}
}

// sameStructure checks that got has m's layer tree: names, types, classes,
// activations and shapes.
func sameStructure(got, m *runtime.Model) error {
	if got.Class != m.Class || fmt.Sprint(got.Input) != fmt.Sprint(m.Input) || len(got.Layers) != len(m.Layers) {
		return fmt.Errorf("model %q: got class %q input %v %d layers, want %q %v %d", m.Name, got.Class, got.Input, len(got.Layers), m.Class, m.Input, len(m.Layers))
	}
	for i, l := range m.Layers {
		g := got.Layers[i]
		if g.Name != l.Name || g.Type != l.Type || g.Class != l.Class || g.Act != l.Act || g.Rate != l.Rate ||
			fmt.Sprint(g.Shape) != fmt.Sprint(l.Shape) || (g.Bias == nil) != (l.Bias == nil) || g.In != l.In || g.Units != l.Units {
			return fmt.Errorf("layer %d: got %+v, want %+v", i, g, l)
		}
		if l.Type == runtime.SubModel {
			if err := sameStructure(g.Sub, l.Sub); err != nil {
				return fmt.Errorf("%s: %w", l.Name, err)
			}
		}
	}
	return nil
}

func TestSelfCheck(t *testing.T) {
	for _, c := range conformance.Cases() {
		b, err := Marshal(c.Model, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, info, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r, err := SelfCheck(m, info)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if r.N != 3 || r.Values != 3*c.Model.OutputWidth() {
			t.Errorf("%s: report %v", c.Name, r)
		}
		// A model whose weights changed fails its self-check.
		m.Walk(func(_ []string, l *runtime.Layer) {
			if l.Type == runtime.Dense {
				for i := range l.Kernel {
					l.Kernel[i] += 0.3 * float32(i%3)
				}
			}
		})
		if _, err := SelfCheck(m, info); !errors.Is(err, ErrCheck) {
			t.Errorf("%s: perturbed model: got %v, want ErrCheck", c.Name, err)
		}
	}
}
