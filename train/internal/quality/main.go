// Command quality trains the Keras-blog autoencoder (784-32-784, relu then
// sigmoid, Adam, binary cross-entropy) on the full Fashion-MNIST in Go and
// writes what a PyTorch run needs to train on the same start and batches.
// It is run by fixtures/train/quality.sh, not by CI.
//
//	go run ./train/internal/quality -out DIR [-epochs 50] [-batch 256] [-seed 1] [-threads 1]
//
// DIR receives init.npy (the initial weights flattened layer by layer,
// kernel then bias), perm.npy (epochs×60000 row order, as float32) and
// go.json (history, validation BCE on the 10000 test images, wall time).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/aekit/aekit/internal/idx"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
	"github.com/aekit/aekit/train/internal/order"
)

// readIDX returns the images of the IDX file name scaled to [0, 1], and
// their number.
func readIDX(name string) ([]float32, int, error) {
	im, err := idx.ReadFile(name)
	if err != nil {
		return nil, 0, err
	}
	return im.Scaled(), im.N, nil
}

func main() {
	out := flag.String("out", "", "output folder")
	src := flag.String("data", "/usr/share/datasets/fashion-mnist", "folder of the Fashion-MNIST IDX files")
	epochs := flag.Int("epochs", 50, "epochs")
	batch := flag.Int("batch", 256, "batch size")
	seed := flag.Uint64("seed", 1, "seed of initialisation and shuffling")
	threads := flag.Int("threads", 1, "threads")
	flag.Parse()
	if *out == "" {
		log.Fatal("quality: -out is required")
	}
	x, n, err := readIDX(filepath.Join(*src, "train-images-idx3-ubyte.gz"))
	if err != nil {
		log.Fatal(err)
	}
	vx, nv, err := readIDX(filepath.Join(*src, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		log.Fatal(err)
	}
	m, err := train.Build(784, train.MustParseArch("32:relu|784:sigmoid"), "glorot_uniform", *seed)
	if err != nil {
		log.Fatal(err)
	}
	var init []float32
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Dense {
			init = append(init, l.Kernel...)
			init = append(init, l.Bias...)
		}
	})
	if err := npy.WriteFile(filepath.Join(*out, "init.npy"), &npy.Array{Shape: []int{len(init)}, Data: init}); err != nil {
		log.Fatal(err)
	}
	perms := order.Permutations(*seed, n, *epochs)
	pf := make([]float32, 0, n**epochs)
	for _, p := range perms {
		for _, i := range p {
			pf = append(pf, float32(i))
		}
	}
	if err := npy.WriteFile(filepath.Join(*out, "perm.npy"), &npy.Array{Shape: []int{*epochs, n}, Data: pf}); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	h, err := train.Fit(context.Background(), m, train.XY(x, m.InputWidth(), nil, 0), train.Set{}, train.Config{
		Optimizer: &train.Adam{}, Loss: train.BinaryCrossentropy, Epochs: *epochs, BatchSize: *batch,
		Seed: *seed, Threads: *threads,
		OnEpoch: func(e train.EpochLog) {
			fmt.Fprintf(os.Stderr, "go: epoch %d/%d - %.1fs - loss: %.4f\n", e.Epoch+1, e.Epochs, e.Seconds, e.Loss)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	secs := time.Since(start).Seconds()
	val, err := train.Evaluate(m, vx, nil, nv, train.BinaryCrossentropy, *batch)
	if err != nil {
		log.Fatal(err)
	}
	res := map[string]any{"val_bce": val, "loss": h.Loss, "train_seconds": secs, "threads": *threads,
		"epochs": *epochs, "batch_size": *batch}
	b, _ := json.MarshalIndent(res, "", " ")
	if err := os.WriteFile(filepath.Join(*out, "go.json"), b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("go: val BCE %.6f, %.1f s training\n", val, secs)
}
