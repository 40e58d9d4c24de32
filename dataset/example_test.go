package dataset_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aekit/aekit/dataset"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// What aekit train --data does: open the file as rows (uint8 pixels
// divided by 255; a float32 file over 1 GiB would be memory-mapped), build
// a model as wide as the rows and train it.
func Example() {
	l := dataset.NewLoader(nil)
	defer l.Close()
	x, err := l.Rows("../fixtures/npy/images_u1.npy", 0) // 3 images of 28×28
	if err != nil {
		log.Fatal(err)
	}
	row := make([]float32, x.Width())
	if err := x.ReadRows(row, []int{0}); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d rows of %d values; row 0 starts %.4f %.4f\n", x.Rows(), x.Width(), row[0], row[1])

	arch := train.Arch{Layers: []train.Layer{
		{Kind: train.Dense, Units: 16, Activation: runtime.Act(runtime.ReLU)},
		{Kind: train.Dense, Units: x.Width(), Activation: runtime.Act(runtime.Sigmoid)},
	}, Split: 1}
	m, err := train.Build(x.Width(), arch, train.GlorotUniform, 1)
	if err != nil {
		log.Fatal(err)
	}
	cfg := train.DefaultConfig()
	cfg.Epochs = 2
	h, err := train.Fit(context.Background(), m, train.Set{X: x}, train.Set{}, cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("epochs:", len(h.Loss))
	// Output:
	// 3 rows of 784 values; row 0 starts 0.0000 0.0275
	// epochs: 2
}
