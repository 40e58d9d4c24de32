// Package benchset is the one list of the models aekit's benchmarks time
// (`aekit bench`, bench/export for ONNX Runtime, the Go benchmarks of
// packages runtime and train) and the data they run on: Fashion-MNIST's
// training images when present, else uniform random rows.
//
// It imports neither runtime nor train, so that every package's tests
// can use it. bench/torch_bench.py holds the same list for PyTorch.
package benchset

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aekit/aekit/internal/bigmem"
	"github.com/aekit/aekit/internal/idx"
)

// Model is one benchmark autoencoder: Dense layers, ReLU inside, sigmoid
// output, Glorot-uniform initialisation.
type Model struct {
	// Name is the model's name in benchmark output: "seed", "ae784",
	// "deep".
	Name string
	// Width is the input (and output) width.
	Width int
	// Layers are its layers in train.Build's notation ("32:relu|784:sigmoid":
	// units:activation, the encoder before "|", the decoder after).
	Layers string
}

// All returns the benchmark models, in this order: seed 100-10-10-100-100
// (sigmoid from its third layer on, as the seed model), ae784
// 784-32-784, deep 784-128-64-32-64-128-784.
func All() []Model {
	return []Model{
		{"seed", 100, "10:relu,10:relu|100:sigmoid,100:sigmoid"},
		{"ae784", 784, "32:relu|784:sigmoid"},
		{"deep", 784, "128:relu,64:relu,32:relu|64:relu,128:relu,784:sigmoid"},
	}
}

// Names returns the models' names, in All's order.
func Names() []string {
	var n []string
	for _, m := range All() {
		n = append(n, m.Name)
	}
	return n
}

// Lookup returns the model with the given name.
func Lookup(name string) (Model, bool) {
	for _, m := range All() {
		if m.Name == name {
			return m, true
		}
	}
	return Model{}, false
}

// Widths returns the model's layer widths, input first.
func (m Model) Widths() []int {
	w := []int{m.Width}
	for _, part := range strings.FieldsFunc(m.Layers, func(r rune) bool { return r == ',' || r == '|' }) {
		n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(part, ":", 2)[0]))
		w = append(w, n)
	}
	return w
}

// InferFLOPs returns the FLOPs of one sample's forward products: 2 per
// multiply-add of every Dense layer.
func (m Model) InferFLOPs() float64 {
	w := m.Widths()
	var macs int
	for i := 1; i < len(w); i++ {
		macs += w[i-1] * w[i]
	}
	return 2 * float64(macs)
}

// TrainFLOPs returns the FLOPs of one sample's products in a training
// step: the forward X·W, the weight gradients Xᵀ·δ and the input
// gradients δ·Wᵀ of every layer but the first (the trainer skips that
// one); the bias gradients are left out (one multiply-add per output).
func (m Model) TrainFLOPs() float64 {
	w := m.Widths()
	return 3*m.InferFLOPs() - 2*float64(w[0]*w[1])
}

// FashionDir is where Debian's dataset-fashion-mnist installs the
// Fashion-MNIST IDX files; FashionTrain is the training images' file.
const (
	FashionDir   = "/usr/share/datasets/fashion-mnist"
	FashionTrain = "train-images-idx3-ubyte.gz"
)

// Rows returns n rows of width values in [0, 1]: the Fashion-MNIST
// training images of dir (divided by 255, cycled if n exceeds their
// number) when width is 784 and dir holds FashionTrain, else uniform
// random values from a fixed seed. src says which. A FashionTrain that
// exists but cannot be read is an error.
func Rows(dir string, width, n int) (x []float32, src string, err error) {
	x = bigmem.Float32s(n * width) // gathered at random by training
	if width == 784 && dir != "" {
		name := filepath.Join(dir, FashionTrain)
		im, err := idx.ReadFile(name)
		if err == nil && im.Width() != width {
			err = fmt.Errorf("%s: images of %d pixels, want %d", name, im.Width(), width)
		}
		if err == nil {
			for i := range x {
				x[i] = float32(im.Pix[i%len(im.Pix)]) / 255
			}
			return x, "Fashion-MNIST " + name, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, "", err
		}
	}
	r := rand.New(rand.NewPCG(1, uint64(width)))
	for i := range x {
		x[i] = r.Float32()
	}
	return x, "uniform random in [0, 1)", nil
}
