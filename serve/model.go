package serve

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/score"
)

// The names of the score outputs every model with equal input and output
// widths offers besides its own output, when a request asks for them:
// the row's reconstruction error (FP32, [batch]) and, when a threshold is
// stored with the model, whether it is above it (BOOL, [batch]). They are
// the names of the outputs aekit convert --score adds to an ONNX graph.
const (
	ScoreOutput   = onnx.ReconstructionErrorName
	AnomalyOutput = onnx.IsAnomalyName
)

// modelExts are the file names a repository version directory may hold,
// in the order they are looked for.
var modelExts = []string{"model.onnx", "model.keras", "model.h5"}

// source is where a model is loaded from, and what the file looked like
// then (to tell a changed file on reload).
type source struct {
	name, version, path string
	size                int64
	mtime               time.Time
	sidecar             time.Time // the sidecar threshold's mtime, zero if none
}

func (s source) same(o source) bool {
	return s.name == o.name && s.version == o.version && s.path == o.path && s.size == o.size &&
		s.mtime.Equal(o.mtime) && s.sidecar.Equal(o.sidecar)
}

// model is one loaded model and its batcher.
type model struct {
	src       source
	platform  string
	m         *runtime.Model
	threshold *score.Threshold // nil when none is stored
	metric    score.Metric     // of the score output
	canScore  bool             // input width == output width
	in, out   string           // tensor names
	inShape   []int            // one row, without the batch axis
	outShape  []int
	inW, outW int
	b         *batcher
}

// loadModel reads the model file of src and its stored threshold.
func loadModel(src source) (*model, error) {
	m, info, err := modelfile.Open(src.path, nil)
	if err != nil {
		return nil, err
	}
	// The server never changes a model's weights once loaded: Predict
	// need not compare them with its packed copy on every batch.
	m.CheckWeights(false)
	md := info.Metadata()
	th, _, err := score.Stored(src.path, md)
	if err != nil {
		return nil, err
	}
	mo := &model{src: src, platform: "aekit_" + string(info.Format), m: m, threshold: th,
		metric: score.MSE, inShape: slices.Clone(m.Input), outShape: m.OutputShape(),
		inW: m.InputWidth(), outW: m.OutputWidth()}
	switch {
	case th != nil:
		mo.metric = th.Metric
	case md[score.MetaMetric] != "":
		// An ONNX graph with a reconstruction_error output and no
		// threshold: its metric.
		if mo.metric, err = score.ParseMetric(md[score.MetaMetric]); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", src.path, score.MetaMetric, err)
		}
	}
	mo.canScore = mo.inW == mo.outW
	mo.in, mo.out = tensorNames(m)
	if mo.canScore && (mo.out == ScoreOutput || mo.out == AnomalyOutput) {
		return nil, fmt.Errorf("%s: the model's output is named %q, the name of a score output", src.path, mo.out)
	}
	return mo, nil
}

// tensorNames names a model's input and output tensors as aekit's ONNX
// writer names its graph's: the input after m.InputName ("input" if
// empty), the output after m.OutputName, else the last layer.
func tensorNames(m *runtime.Model) (in, out string) {
	in, out = m.InputName, m.OutputName
	if in == "" {
		in = onnx.InputName
	}
	if out == "" && len(m.Layers) > 0 {
		out = m.Layers[len(m.Layers)-1].Name
	}
	if out == "" || out == in {
		out = onnx.OutputName
		if out == in {
			out = onnx.OutputName + "_1"
		}
	}
	return in, out
}

// stat fills the size and times of src from the file system.
func stat(src source) (source, error) {
	fi, err := os.Stat(src.path)
	if err != nil {
		return src, err
	}
	if !fi.Mode().IsRegular() {
		return src, fmt.Errorf("%s: not a regular file", src.path)
	}
	src.size, src.mtime = fi.Size(), fi.ModTime()
	if si, err := os.Stat(score.SidecarPath(src.path)); err == nil {
		src.sidecar = si.ModTime()
	}
	return src, nil
}

// ErrRepository reports a model repository or model list that cannot be
// served: no model, a name given twice, a version directory without a
// model file.
var ErrRepository = errors.New("bad model repository")

// scan lists the models to serve: the highest version of each model of
// the repository dir, and the files of files, named after their base
// names or, for a single file, name if not "".
func scan(dir string, files []string, name string) ([]source, error) {
	var out []source
	seen := map[string]string{}
	add := func(s source) error {
		if p, ok := seen[s.name]; ok {
			return fmt.Errorf("%w: two models named %q: %s and %s", ErrRepository, s.name, p, s.path)
		}
		seen[s.name] = s.path
		out = append(out, s)
		return nil
	}
	if name != "" && len(files) != 1 {
		return nil, fmt.Errorf("%w: a model name is for one model file, not %d", ErrRepository, len(files))
	}
	for _, f := range files {
		base := filepath.Base(f)
		if name == "" {
			name = strings.TrimSuffix(base, filepath.Ext(base))
		}
		if name == "" {
			return nil, fmt.Errorf("%w: %s: no model name in the file name", ErrRepository, f)
		}
		if err := add(source{name: name, version: "1", path: f}); err != nil {
			return nil, err
		}
		name = ""
	}
	if dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			s, ok, err := latest(filepath.Join(dir, e.Name()), e.Name())
			if err != nil {
				return nil, err
			}
			if ok {
				if err := add(s); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no model to serve", ErrRepository)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// latest returns the highest numbered version of the model directory dir
// (false if it has none).
func latest(dir, name string) (source, bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return source{}, false, err
	}
	best := int64(-1)
	for _, e := range ents {
		v, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || v < 1 || !e.IsDir() || strconv.FormatInt(v, 10) != e.Name() {
			continue // "01", "+2": not a version directory
		}
		best = max(best, v)
	}
	if best < 1 {
		return source{}, false, nil
	}
	vdir := filepath.Join(dir, strconv.FormatInt(best, 10))
	for _, f := range modelExts {
		p := filepath.Join(vdir, f)
		if _, err := os.Stat(p); err == nil {
			return source{name: name, version: strconv.FormatInt(best, 10), path: p}, true, nil
		}
	}
	return source{}, false, fmt.Errorf("%w: %s holds none of %s", ErrRepository, vdir, strings.Join(modelExts, ", "))
}
