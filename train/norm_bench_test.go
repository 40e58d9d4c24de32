package train

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/internal/benchset"
	"github.com/aekit/aekit/internal/idx"
)

// normBenchModels are the models of BenchmarkFitStepNorm and
// bench/torch_norm_bench.py: a 784-128-32-128-784 autoencoder plain, with
// BatchNormalization or LayerNormalization after both encoder layers, and
// with a Dropout(0.2) after the first.
var normBenchModels = []struct{ name, spec string }{
	{"plain", "128:relu,32:relu|128:relu,784:sigmoid"},
	{"bn", "128:relu:bn,32:relu:bn|128:relu,784:sigmoid"},
	{"ln", "128:relu:ln,32:relu:ln|128:relu,784:sigmoid"},
	{"dropout", "128:relu:dropout=0.2,32:relu|128:relu,784:sigmoid"},
}

// BenchmarkFitStepNorm measures training steps (Adam, binary
// cross-entropy, batch 256, shuffled rows) of normBenchModels on the
// 60000 Fashion-MNIST training images at 1 thread, for a side-by-side
// with PyTorch (bench/torch_norm_bench.py). Skipped without Debian's
// dataset-fashion-mnist.
func BenchmarkFitStepNorm(b *testing.B) {
	name := filepath.Join(benchset.FashionDir, benchset.FashionTrain)
	im, err := idx.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		b.Skip(name + " absent (apt-get install dataset-fashion-mnist)")
	}
	if err != nil {
		b.Fatal(err)
	}
	x, rows := im.Scaled(), im.N
	for _, md := range normBenchModels {
		b.Run(md.name+"/threads=1", func(b *testing.B) {
			benchSteps(b, 784, md.spec, 1, x, rows)
		})
	}
}
