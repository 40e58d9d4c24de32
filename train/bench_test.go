package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/internal/benchset"
	"github.com/aekit/aekit/internal/idx"
	"github.com/aekit/aekit/runtime"
)

// benchModels are the benchmark models (internal/benchset).
var benchModels = benchset.All()

// benchSteps times training steps (gather, forward, loss, backward,
// Adam update) at batch 256 over rows of x in shuffled order, and
// reports samples per second.
func benchSteps(b *testing.B, in int, spec string, threads int, x []float32, rows int) {
	m, err := buildSpec(in, spec, "", 1)
	if err != nil {
		b.Fatal(err)
	}
	benchModelSteps(b, m, threads, x, rows)
}

// benchModelSteps is benchSteps on the model m.
func benchModelSteps(b *testing.B, m *runtime.Model, threads int, x []float32, rows int) {
	const batch = 256
	in := m.InputWidth()
	nt, err := newNet(m, BinaryCrossentropy, batch, threads)
	if err != nil {
		b.Fatal(err)
	}
	defer nt.close()
	opt := &Adam{}
	slots := nt.newSlots(opt)
	idx := permutations(1, rows, 1)[0]
	xd := Slice(x, in)
	batches := rows / batch
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		nt.arm(opt, opt.consts(int64(i)), slots)
		nt.batch(xd, xd, idx, (i%batches)*batch, batch, true)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkFitStep measures training steps of the three models at
// batch 256 on 2048 rows of uniform random data in [0, 1) (where most
// relu units of the 784-wide models die, leaving subnormal Adam moments:
// see subnormal.go), at 1 and 2 threads.
func BenchmarkFitStep(b *testing.B) {
	const rows = 2048
	for _, md := range benchModels {
		x := randData(1, rows*md.Width)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", md.Name, threads), func(b *testing.B) {
				benchSteps(b, md.Width, md.Layers, threads, x, rows)
			})
		}
	}
}

// BenchmarkFitStepFashion is BenchmarkFitStep on the 60000 Fashion-MNIST
// training images (the 784-wide models; skipped without Debian's
// dataset-fashion-mnist).
func BenchmarkFitStepFashion(b *testing.B) {
	name := filepath.Join(benchset.FashionDir, benchset.FashionTrain)
	im, err := idx.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		b.Skip(name + " absent (apt-get install dataset-fashion-mnist)")
	}
	if err != nil {
		b.Fatal(err)
	}
	x, rows := im.Scaled(), im.N
	for _, md := range benchModels[1:] {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", md.Name, threads), func(b *testing.B) {
				benchSteps(b, md.Width, md.Layers, threads, x, rows)
			})
		}
	}
}

// BenchmarkFitStepFamily measures steps of 784-32-784 with the denoising
// and sparse autoencoders' extra layers (issue 11) against the plain
// model, at batch 256 on uniform random rows, 1 thread: the cost of the
// noise layers (hashed random numbers) and of the regularisers.
func BenchmarkFitStepFamily(b *testing.B) {
	const rows = 2048
	x := randData(1, rows*784)
	for _, c := range []struct{ name, spec string }{
		{"plain", "32:relu|784:sigmoid"},
		{"gaussian", "gaussian=0.2,32:relu|784:sigmoid"},
		{"dropout", "dropout=0.2,32:relu|784:sigmoid"},
		{"sparse", "32:relu:act_l1=1e-4|784:sigmoid"},
		{"l2", "32:relu:l2=1e-4|784:sigmoid:l2=1e-4"},
	} {
		b.Run(c.name, func(b *testing.B) { benchSteps(b, 784, c.spec, 1, x, rows) })
	}
}
