package train_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// A tiny autoencoder learns to reproduce 8-dimensional binary patterns
// through a 3-unit code.
func Example() {
	m, err := train.Build(8, train.MustParseArch("3:relu|8:sigmoid"), "glorot_uniform", 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.LayerNames())

	// 64 rows: each is one of 8 one-hot patterns.
	r := rand.New(rand.NewPCG(1, 2))
	const n = 64
	x := make([]float32, n*8)
	for i := 0; i < n; i++ {
		x[i*8+r.IntN(8)] = 1
	}
	h, err := train.Fit(context.Background(), m, train.XY(x, 8, nil, 0), train.Set{}, train.Config{
		Optimizer: &train.Adam{LR: 0.05},
		Loss:      train.BinaryCrossentropy,
		Epochs:    100,
		BatchSize: 16,
		Seed:      1,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("epochs: %d\n", len(h.Loss))
	fmt.Printf("loss: first %.2f, last %.2f\n", h.Loss[0], h.Loss[len(h.Loss)-1])
	// Output:
	// [encoder dense decoder dense_1]
	// epochs: 100
	// loss: first 0.66, last 0.07
}

// Fit reads rows from any Data; an Arch can be written out in Go, and
// DefaultConfig holds Keras's fit defaults (shuffle=True, batch_size 32).
func ExampleFit() {
	arch := train.Arch{Layers: []train.Layer{
		{Kind: train.Dense, Units: 3, Activation: runtime.Act(runtime.ReLU)},
		{Kind: train.Dense, Units: 8, Activation: runtime.Act(runtime.Sigmoid)},
	}, Split: 1}
	fmt.Println(arch)
	m, err := train.Build(8, arch, train.HeUniform, 1)
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, 64*8)
	for i := range 64 {
		x[i*8+i%8] = 1
	}
	cfg := train.DefaultConfig()
	fmt.Printf("batch %d, shuffle %v\n", cfg.BatchSize, !cfg.NoShuffle)
	cfg.Epochs, cfg.BatchSize = 2, 16
	cfg.Optimizer = &train.Adam{LR: 0.05}
	h, err := train.Fit(context.Background(), m, train.Set{X: train.Slice(x, 8)}, train.Set{}, cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(h.Loss), "epochs")
	// Output:
	// 3:relu|8:sigmoid
	// batch 32, shuffle true
	// 2 epochs
}

// Config.Times says where a run's steps went: here its steps and the
// FLOPs of their products, which do not depend on the machine (the
// durations do: Total, the phases, Products and ProductGFLOPS).
func ExampleStepTimes() {
	m, err := train.Build(784, train.MustParseArch("32:relu|784:sigmoid"), "glorot_uniform", 1)
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, 1000*784)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	var st train.StepTimes
	_, err = train.Fit(context.Background(), m, train.XY(x, 784, nil, 0), train.Set{},
		train.Config{Epochs: 1, BatchSize: 256, Threads: 1, Times: &st})
	if err != nil {
		log.Fatal(err)
	}
	// 4 batches (256, 256, 256, 232 rows); per row x·W and xᵀ·δ of both
	// layers and δ·Wᵀ of the second: 5 × 784·32 multiply-adds.
	fmt.Println(st.Steps, st.ProductFLOPs, st.ProductFLOPs == 2*5*784*32*1000)
	fmt.Println(st.Products > 0 && st.Products <= st.Total, st.ProductGFLOPS() > 0)
	// Product by product, in the step's order.
	for _, p := range st.ByProduct {
		fmt.Println(p.Layer, p.Kind, p.M, p.N, p.K, p.FLOPs)
	}
	// Output:
	// 4 2.5088e+08 true
	// true true
	// dense forward 256 32 784 5.0176e+07
	// dense weights 784 32 256 5.0176e+07
	// dense_1 forward 256 784 32 5.0176e+07
	// dense_1 backward 256 32 784 5.0176e+07
	// dense_1 weights 32 784 256 5.0176e+07
}
