package keras_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/aekit/aekit/keras"
)

// Read a Keras 2 autoencoder and run its encoder alone to get the codes.
func ExampleReadFile() {
	m, info, err := keras.ReadFile("../fixtures/keras/gen/k2_nested_autoencoder.h5", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Format, info.KerasVersion, m.Name, m.Input, m.OutputShape())
	fmt.Println(m.LayerNames())
	enc, err := m.Until("encoder")
	if err != nil {
		log.Fatal(err)
	}
	codes, err := enc.Predict(nil, make([]float32, 2*20)) // two samples
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(codes), "codes")
	// Output:
	// h5 2.10.0 autoencoder [20] [20]
	// [encoder enc_1 enc_2 decoder dec_1 dec_2]
	// 8 codes
}

// Weights-only files need the architecture.
func ExampleReadFile_weightsOnly() {
	m, info, err := keras.ReadFile("../fixtures/keras/gen/k3_seq.weights.h5",
		&keras.Options{Arch: "../fixtures/keras/gen/k3_seq_config.json"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Format, info.Major, m.Params())
	// Output:
	// v3.weights.h5 3 236
}

// Load the parts of a variational autoencoder whose whole model cannot run
// (its encoder samples z with a Lambda): the decoder alone, and the encoder
// cut at its deterministic output z_mean.
func ExampleReadFile_subModel() {
	const vae = "../fixtures/keras/gen/k3_vae.keras"
	dec, _, err := keras.ReadFile(vae, &keras.Options{Model: "decoder"})
	if err != nil {
		log.Fatal(err)
	}
	enc, _, err := keras.ReadFile(vae, &keras.Options{Model: "encoder", Output: "z_mean"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dec.Name, dec.Input, dec.OutputShape(), dec.LayerNames())
	fmt.Println(enc.Name, enc.Input, enc.OutputShape(), enc.LayerNames())
	_, _, err = keras.ReadFile(vae, nil)
	fmt.Println(errors.Is(err, keras.ErrUnsupportedLayer))
	// Output:
	// decoder [2] [8] [dec_h dec_out]
	// encoder [8] [2] [h z_mean]
	// true
}
