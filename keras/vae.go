package keras

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/runtime"
)

// SamplingRegisteredName is the registered_name of the sampling layer in
// the .keras files WriteVAE writes. Keras loads such a file once a class
// of that name is known to it, registered or passed as a custom object:
//
//	@keras.saving.register_keras_serializable(package="aekit")
//	class Sampling(keras.layers.Layer):
//	    def call(self, inputs):
//	        z_mean, z_log_var = inputs
//	        eps = keras.random.normal(keras.ops.shape(z_mean))
//	        return z_mean + keras.ops.exp(0.5 * z_log_var) * eps
//
//	vae = keras.saving.load_model("vae.keras")
//
// or, without the decorator, keras.saving.load_model("vae.keras",
// custom_objects={"aekit>Sampling": Sampling}).
const SamplingRegisteredName = "aekit>Sampling"

// WriteVAEFile writes the variational autoencoder of encoder and decoder
// to the named ".keras" file (see WriteVAE), through a temporary file in
// the same folder, so that a failure leaves no partial file.
func WriteVAEFile(name string, encoder, decoder *runtime.Model) error {
	if strings.ToLower(filepath.Ext(name)) != ".keras" {
		return fmt.Errorf("%s: %w: a VAE is written as .keras", name, ErrFormat)
	}
	var buf bytes.Buffer
	if err := WriteVAE(&buf, encoder, decoder); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return atomicfile.WriteFile(name, buf.Bytes())
}

// WriteVAE writes a variational autoencoder as one Keras 3 ".keras" zip
// laid out as the Keras example's VAE saves: a Functional model "vae" =
// decoder(encoder(x)[2]) whose nested Functional model "encoder" has
// encoder's layers but the last, then Dense layers "z_mean" and
// "z_log_var" (the first and second halves of the columns of encoder's
// last layer) and a sampling layer "z" of class Sampling, registered name
// SamplingRegisteredName, on [z_mean, z_log_var]; its outputs are
// [z_mean, z_log_var, z]. The nested model "decoder" is decoder.
//
// encoder must end in a linear Dense layer with a bias and 2·L units,
// where L is decoder's input width (as train.BuildVAE makes them); both
// models are chains of layers Write can write. Keras 3 loads the file
// with the Sampling class documented at SamplingRegisteredName;
// keras.ReadFile reads it back with Options{Model: "decoder"} or
// Options{Model: "encoder", Output: "z_mean"} (or "z_log_var"), the
// sampling layer being one it cannot run (Options.Describe lists it as
// a runtime.Unsupported placeholder). Errors wrap ErrFormat for models
// that do not fit together.
func WriteVAE(w io.Writer, encoder, decoder *runtime.Model) error {
	if encoder == nil || decoder == nil {
		return fmt.Errorf("%w: nil VAE model", ErrFormat)
	}
	for _, m := range []*runtime.Model{encoder, decoder} {
		if err := m.Validate(); err != nil {
			return err
		}
	}
	if len(decoder.Input) != 1 {
		return fmt.Errorf("%w: VAE decoder input %v is not a vector", ErrFormat, decoder.Input)
	}
	latent := decoder.Input[0]
	n := len(encoder.Layers)
	if n == 0 {
		return fmt.Errorf("%w: VAE encoder has no layers", ErrFormat)
	}
	zl := encoder.Layers[n-1]
	if zl.Type != runtime.Dense || zl.Units != 2*latent || zl.Bias == nil || zl.Act.Func != runtime.Linear {
		return fmt.Errorf("%w: VAE encoder's last layer %q is not a linear Dense layer with a bias and %d units (2 × the decoder's input)",
			ErrFormat, zl.Name, 2*latent)
	}
	if out := decoder.OutputShape(); len(out) != 1 || len(encoder.Input) != 1 || out[0] != encoder.Input[0] {
		return fmt.Errorf("%w: VAE decoder output %v does not match the encoder input %v", ErrFormat, out, encoder.Input)
	}
	half := func(name string, from int) *runtime.Layer {
		k := make([]float32, zl.In*latent)
		for i := 0; i < zl.In; i++ {
			copy(k[i*latent:(i+1)*latent], zl.Kernel[i*zl.Units+from:i*zl.Units+from+latent])
		}
		b := append([]float32(nil), zl.Bias[from:from+latent]...)
		return &runtime.Layer{Type: runtime.Dense, Name: name, In: zl.In, Units: latent, Kernel: k, Bias: b,
			Act: runtime.Act(runtime.Linear)}
	}

	wr := &writer{v3: true, used: map[string]bool{}}
	hidden := &runtime.Model{Name: "encoder", Class: "Functional", Input: encoder.Input, Layers: encoder.Layers[:n-1]}
	for _, name := range []string{"vae", "encoder", "decoder", "z_mean", "z_log_var", "z"} {
		wr.used[name] = true
	}
	wr.reserve(hidden)
	wr.reserve(decoder)
	top := &wmodel{name: "vae", class: "Functional", input: encoder.Input}
	top.inName = wr.fresh("input_layer")
	enc, err := wr.model(hidden, "encoder", encoder.Input, false)
	if err != nil {
		return err
	}
	enc.class = "Functional"
	dec, err := wr.model(decoder, "decoder", decoder.Input, false)
	if err != nil {
		return err
	}
	dec.class = "Functional"
	hshape := hidden.OutputShape()
	// z_mean before z_log_var, the order in which Keras 3 rebuilds them
	// from the config and so assigns their weights (Keras's own file of
	// the example lists z_log_var first, and also loads).
	zm, err := wr.layer(half("z_mean", 0), hshape)
	if err != nil {
		return err
	}
	zlv, err := wr.layer(half("z_log_var", latent), hshape)
	if err != nil {
		return err
	}
	last, lastNode := enc.inName, 0
	if k := len(enc.layers); k > 0 {
		last, lastNode = enc.layers[k-1].name, wr.outNode(enc.layers[k-1])
	}
	hiddenLayers := enc.layers
	sampling := &wlayer{name: "z", class: "Sampling", l: &runtime.Layer{Type: runtime.Identity, Name: "z"},
		in: []int{latent}, out: []int{latent}, cfg: wr.base("z", nil)}
	enc.layers = append(append(append([]*wlayer(nil), hiddenLayers...), zm, zlv), sampling)
	enc.output = []int{latent}

	// The encoder's config: a chain to the last hidden layer, then the
	// two heads and the sampling layer.
	layers := arr{wr.inputLayer(enc)}
	prev, prevNode := enc.inName, 0
	for _, wl := range hiddenLayers {
		layers = append(layers, wr.entry(wl, true, prev, prevNode))
		prev, prevNode = wl.name, wr.outNode(wl)
	}
	layers = append(layers, wr.entry(zm, true, last, lastNode), wr.entry(zlv, true, last, lastNode))
	tensor := func(name string, shape []int, node, index int) obj {
		return obj{}.set("class_name", "__keras_tensor__").set("config",
			obj{}.set("shape", dims(shape)).set("dtype", "float32").set("keras_history", arr{name, node, index}))
	}
	layers = append(layers, obj{}.set("module", "aekit").set("class_name", "Sampling").set("config", sampling.cfg).
		set("registered_name", SamplingRegisteredName).
		set("build_config", obj{}.set("input_shape", arr{dims([]int{latent}), dims([]int{latent})})).
		set("name", "z").
		set("inbound_nodes", arr{obj{}.set("args", arr{arr{tensor("z_mean", []int{latent}, 0, 0), tensor("z_log_var", []int{latent}, 0, 0)}}).
			set("kwargs", obj{})}))
	encCfg := obj{}.set("module", "keras.src.models.functional").set("class_name", "Functional").
		set("config", obj{}.set("name", enc.name).set("trainable", true).set("layers", layers).
			set("input_layers", arr{arr{enc.inName, 0, 0}}).
			set("output_layers", arr{arr{"z_mean", 0, 0}, arr{"z_log_var", 0, 0}, arr{"z", 0, 0}})).
		set("registered_name", "Functional").set("build_config", obj{}.set("input_shape", nil)).
		set("name", enc.name).
		set("inbound_nodes", arr{obj{}.set("args", arr{tensor(top.inName, encoder.Input, 0, 0)}).set("kwargs", obj{}.set("mask", nil))})
	decCfg := wr.config(dec, false).set("name", dec.name).
		set("inbound_nodes", arr{obj{}.set("args", arr{tensor(enc.name, []int{latent}, 0, 2)}).set("kwargs", obj{}.set("mask", nil))})
	cfg := obj{}.set("module", "keras.src.models.functional").set("class_name", "Functional").
		set("config", obj{}.set("name", top.name).set("trainable", true).
			set("layers", arr{wr.inputLayer(top), encCfg, decCfg}).
			set("input_layers", arr{arr{top.inName, 0, 0}}).
			set("output_layers", arr{arr{dec.name, 1, 0}})).
		set("registered_name", "Functional").set("build_config", obj{}.set("input_shape", nil))
	cfgJSON, err := marshal(cfg)
	if err != nil {
		return err
	}
	top.layers = []*wlayer{{name: enc.name, class: "Functional", sub: enc}, {name: dec.name, class: "Functional", sub: dec}}
	top.output = decoder.OutputShape()
	b, err := wr.kerasZip(cfgJSON, top)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
