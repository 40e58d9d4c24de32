package modelfile_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/aekit/aekit/modelfile"
)

// Open a Keras 3 autoencoder, whatever its format, and take its encoder.
func ExampleOpen() {
	m, info, err := modelfile.Open("../fixtures/keras/gen/k3_autoencoder.keras", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Format, info.Keras.Format, m.Name, m.Input, m.OutputShape(), m.Params())
	enc, _, err := modelfile.Open("../fixtures/keras/gen/k3_autoencoder.keras", &modelfile.Options{Layer: "encoder"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(enc.OutputShape())
	// Output:
	// keras keras autoencoder [16] [16] 527
	// [3]
}

// Open the decoder of a variational autoencoder whose whole model cannot
// run, and save it as ONNX; Open reads the ONNX file back.
func ExampleSave() {
	dec, _, err := modelfile.Open("../fixtures/keras/gen/k3_vae.keras", &modelfile.Options{Model: "decoder"})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "modelfile")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "decoder.onnx")
	if err := modelfile.Save(out, dec, &modelfile.SaveOptions{Opset: 17, ProducerVersion: "1.0"}); err != nil {
		log.Fatal(err)
	}
	back, info, err := modelfile.Open(out, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info)
	fmt.Println(back.Input, back.OutputShape(), back.Params() == dec.Params())
	// Output:
	// ONNX (IR 8, opset 17), produced by aekit 1.0
	// [2] [8] true
}
