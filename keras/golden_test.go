package keras

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/internal/golden"
	"github.com/aekit/aekit/runtime"
)

// TestGoldenConfig compares the config.json that Write puts into .keras
// files with testdata/golden/config: models built in Go (conformance
// cases: a plain Sequential, a nested autoencoder, layer classes,
// Flatten/Reshape) and Keras fixtures written back by aekit (Keras 2 and
// Keras 3 nested autoencoders). The JSON is indented as written, keys in
// the writer's order, so that a change to the written architecture shows
// in the diff. Accept an intended change with go test -run Golden -update.
func TestGoldenConfig(t *testing.T) {
	models := map[string]*runtime.Model{}
	for _, c := range conformance.Cases() {
		switch c.Name {
		case "seed", "deep_nested", "layers", "act_leaky_relu_0.3", "act_relu_capped":
			models[c.Name] = c.Model
		}
	}
	for _, f := range []string{"k2_nested_autoencoder.h5", "k3_autoencoder.keras"} {
		m, _, err := ReadFile(filepath.Join(fixtures, "gen", f), nil)
		if err != nil {
			t.Fatal(err)
		}
		models[f] = m
	}
	if len(models) != 7 {
		t.Fatalf("%d models, want 7 (a conformance case was renamed?)", len(models))
	}
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, m, FormatKeras); err != nil {
				t.Fatal(err)
			}
			cfg := zipMember(t, buf.Bytes(), "config.json")
			var out bytes.Buffer
			if err := json.Indent(&out, cfg, "", "  "); err != nil {
				t.Fatal(err)
			}
			out.WriteByte('\n')
			golden.Check(t, filepath.Join("testdata", "golden", "config", name+".json"), out.Bytes())
		})
	}
}

// zipMember returns the member name of the zip b.
func zipMember(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range z.File {
		if f.Name == name {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			data, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
	t.Fatalf("no %s in the zip", name)
	return nil
}

// TestGoldenConfigFamily is TestGoldenConfig for the normalisation kinds:
// the Keras 3 family fixtures (BatchNormalization, LayerNormalization,
// Normalization, UnitNormalization, Rescaling) written back by aekit.
func TestGoldenConfigFamily(t *testing.T) {
	for _, e := range readManifestIn(t, familyDir) {
		if e.Layout != string(FormatKeras) || !strings.HasPrefix(e.Writer, "keras ") {
			continue
		}
		t.Run(e.Model, func(t *testing.T) {
			m, _ := readJudgeIn(t, familyDir, e, "")
			var buf bytes.Buffer
			if err := Write(&buf, m, FormatKeras); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := json.Indent(&out, zipMember(t, buf.Bytes(), "config.json"), "", "  "); err != nil {
				t.Fatal(err)
			}
			out.WriteByte('\n')
			golden.Check(t, filepath.Join("testdata", "golden", "config", "family_"+e.Model+".json"), out.Bytes())
		})
	}
}
