package keras

import (
	"archive/zip"
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/aekit/aekit/internal/h5/libhdf5"
	"github.com/aekit/aekit/internal/version"
	"github.com/aekit/aekit/runtime"
)

var (
	vlenUTF8  = libhdf5.StringType{VarLen: true, UTF8: true}
	vlenASCII = libhdf5.StringType{VarLen: true}
)

func (wr *writer) modelJSON(wm *wmodel) ([]byte, error) {
	return marshal(wr.config(wm, true))
}

// leaves lists the layers of wm and its nested models that hold weights
// (Dense layers, kinds with parameters), in order.
func (wm *wmodel) leaves() []*wlayer {
	var out []*wlayer
	for _, wl := range wm.layers {
		if wl.sub != nil {
			out = append(out, wl.sub.leaves()...)
		} else if wl.weighted() {
			out = append(out, wl)
		}
	}
	return out
}

// weighted reports whether wl is a layer with weights of its own.
func (wl *wlayer) weighted() bool {
	switch wl.l.Type {
	case runtime.Dense:
		return true
	case runtime.Other:
		return len(wl.l.Kind.Params()) > 0
	}
	return false
}

// weights returns wl's weights in Keras's saving order: their names
// ("kernel", "gamma"), values and shapes.
func (wl *wlayer) weights() (names []string, values [][]float32, shapes [][]int) {
	l := wl.l
	if l.Type == runtime.Other {
		for _, p := range l.Kind.Params() {
			names, values, shapes = append(names, p.Name), append(values, p.Values), append(shapes, []int{len(p.Values)})
		}
		return names, values, shapes
	}
	names, values, shapes = []string{"kernel"}, [][]float32{l.Kernel}, [][]int{{l.In, l.Units}}
	if l.Bias != nil {
		names, values, shapes = append(names, "bias"), append(values, l.Bias), append(shapes, []int{l.Units})
	}
	return names, values, shapes
}

// h5 writes a tf.keras 2-layout full-model HDF5 file: root attributes
// backend, keras_version, model_config; model_weights with layer_names,
// one group per layer with weight_names, datasets <layer>/kernel:0 and
// <layer>/bias:0.
func (wr *writer) h5(wm *wmodel) ([]byte, error) {
	cfg, err := wr.modelJSON(wm)
	if err != nil {
		return nil, err
	}
	f, err := libhdf5.Create()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	steps := []func() error{
		func() error { return f.SetAttrString("/", "backend", "tensorflow", vlenUTF8) },
		func() error { return f.SetAttrString("/", "keras_version", H5KerasVersion, vlenUTF8) },
		func() error { return f.SetAttrString("/", "aekit_version", version.String(), vlenUTF8) },
		func() error { return f.SetAttrString("/", "model_config", string(cfg), vlenASCII) },
		func() error { return f.CreateGroup("/model_weights") },
		func() error { return f.SetAttrString("/model_weights", "backend", "tensorflow", vlenASCII) },
		func() error { return f.SetAttrString("/model_weights", "keras_version", H5KerasVersion, vlenASCII) },
	}
	var names []string
	if wm.class == "Functional" {
		names = append(names, wm.inName)
		steps = append(steps, wr.h5Group(f, wm.inName, nil))
	}
	for _, wl := range wm.layers {
		names = append(names, wl.name)
		var ds []*wlayer
		switch {
		case wl.sub != nil:
			ds = wl.sub.leaves()
		case wl.weighted():
			ds = []*wlayer{wl}
		}
		steps = append(steps, wr.h5Group(f, wl.name, ds))
	}
	steps = append(steps,
		func() error { return f.SetAttrStrings("/model_weights", "layer_names", names, vlenASCII) },
		func() error { return f.CreateGroup("/model_weights/top_level_model_weights") },
		func() error { return f.SetAttrEmpty("/model_weights/top_level_model_weights", "weight_names") },
	)
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	return f.Image()
}

// h5Group writes one layer group of model_weights holding the weights of
// the layers ds (the layer itself, or those of a nested model), listed in
// weight_names as Keras 2 orders a layer's weights (and Keras 3 reads a
// legacy file, by position): all trainable weights, then all
// non-trainable ones, each in layer order (BatchNormalization's moving
// statistics after every layer's kernels, biases, gammas and betas of a
// nested model; every weight of a frozen layer among the non-trainable
// ones: measured with Keras 3.15 and tf-keras 2.21, a decoder [Dense d1
// frozen, BatchNormalization, Dense d2] is saved as gamma, beta, d2's
// kernel and bias, d1's kernel and bias, moving mean and variance).
func (wr *writer) h5Group(f *libhdf5.File, name string, ds []*wlayer) func() error {
	return func() error {
		g := "/model_weights/" + name
		if err := f.CreateGroup(g); err != nil {
			return err
		}
		var wn []string
		for _, trainable := range []bool{true, false} {
			for _, d := range ds {
				var params []runtime.Param
				if d.l.Type == runtime.Other {
					params = d.l.Kind.Params()
				}
				names, values, shapes := d.weights()
				for i, n := range names {
					if ((params == nil || params[i].Trainable) && !wr.frozen[d.l]) != trainable {
						continue
					}
					k := d.name + "/" + n + ":0"
					if err := f.WriteFloat32(g+"/"+k, values[i], shapes[i]); err != nil {
						return err
					}
					wn = append(wn, k)
				}
			}
		}
		if len(wn) == 0 {
			return f.SetAttrEmpty(g, "weight_names")
		}
		return f.SetAttrStrings(g, "weight_names", wn, vlenASCII)
	}
}

// keras writes a Keras 3 .keras zip: metadata.json, config.json and
// model.weights.h5.
func (wr *writer) keras(wm *wmodel) ([]byte, error) {
	cfg, err := wr.modelJSON(wm)
	if err != nil {
		return nil, err
	}
	return wr.kerasZip(cfg, wm)
}

// kerasZip writes a .keras zip of the config JSON cfg and the weights of
// wm's layers.
func (wr *writer) kerasZip(cfg []byte, wm *wmodel) ([]byte, error) {
	weights, err := wr.v3Weights(wm)
	if err != nil {
		return nil, err
	}
	meta, err := marshal(obj{}.set("keras_version", KerasVersion3).set("aekit_version", version.String()).
		set("date_saved", time.Now().Format("2006-01-02@15:04:05")))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, m := range []struct {
		name string
		data []byte
	}{{"metadata.json", meta}, {"config.json", cfg}, {"model.weights.h5", weights}} {
		w, err := z.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Store,
			Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(m.data); err != nil {
			return nil, err
		}
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// v3Weights writes the model.weights.h5 of a .keras zip:
// layers/<class-counter name>/vars/<i>, every vars group named after its
// object, as Keras 3.10 writes them.
func (wr *writer) v3Weights(wm *wmodel) ([]byte, error) {
	f, err := libhdf5.Create()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := wr.v3Model(f, wm, ""); err != nil {
		return nil, err
	}
	return f.Image()
}

func (wr *writer) v3Vars(f *libhdf5.File, path, name string) error {
	if err := f.CreateGroup(path + "/vars"); err != nil {
		return err
	}
	return f.SetAttrString(path+"/vars", "name", name, vlenUTF8)
}

func (wr *writer) v3Model(f *libhdf5.File, wm *wmodel, prefix string) error {
	if err := f.CreateGroup(prefix + "/layers"); err != nil {
		return err
	}
	// The saveable layer list: a Functional model's includes its
	// InputLayer, a Sequential's does not.
	type item struct {
		class, name string
		wl          *wlayer
	}
	var items []item
	if wm.class == "Functional" {
		items = append(items, item{"InputLayer", wm.inName, nil})
	}
	for _, wl := range wm.layers {
		items = append(items, item{wl.class, wl.name, wl})
	}
	classes := make([]string, len(items))
	for i, it := range items {
		classes[i] = it.class
	}
	groups := v3NamesOf(classes) // the same counter names the reader expects
	for i, it := range items {
		p := prefix + "/layers/" + groups[i]
		if it.wl != nil && it.wl.sub != nil {
			if err := wr.v3Model(f, it.wl.sub, p); err != nil {
				return err
			}
			continue
		}
		if err := wr.v3Vars(f, p, it.name); err != nil {
			return err
		}
		if it.wl == nil || !it.wl.weighted() {
			continue
		}
		_, values, shapes := it.wl.weights()
		for j, v := range values {
			if err := f.WriteFloat32(p+"/vars/"+strconv.Itoa(j), v, shapes[j]); err != nil {
				return err
			}
		}
	}
	path := prefix
	if path == "" {
		path = "/"
	}
	return wr.v3Vars(f, strings.TrimSuffix(path, "/"), wm.name)
}
