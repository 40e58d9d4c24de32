package train

import (
	"github.com/aekit/aekit/internal/limits"

	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/aekit/aekit/runtime"
)

// Initializer names accepted by Build and Initialize, with Keras's
// definitions (fan_in and fan_out are a Dense kernel's input and output
// widths):
//
//	glorot_uniform  U(−l, l), l = √(6/(fan_in+fan_out))   (Keras default)
//	glorot_normal   truncated normal, σ = √(2/(fan_in+fan_out))/0.8796…
//	he_uniform      U(−l, l), l = √(6/fan_in)
//	he_normal       truncated normal, σ = √(2/fan_in)/0.8796…
//	lecun_uniform   U(−l, l), l = √(3/fan_in)
//	lecun_normal    truncated normal, σ = √(1/fan_in)/0.8796…
//	random_normal   N(0, 0.05²)
//	random_uniform  U(−0.05, 0.05)
//	zeros, ones     constants
//
// Truncated normals redraw values more than two standard deviations from
// the mean, as Keras's TruncatedNormal; dividing σ by 0.87962566103423978
// (the standard deviation of a standard normal truncated at ±2) gives the
// variance the scaling rule asks for, as Keras's VarianceScaling does.
// Numbers come from a seeded PCG generator: the same seed gives the same
// weights, but not the same as Keras's own generator.
var initializers = map[string]func(r *rand.Rand, w []float32, fanIn, fanOut int){
	"glorot_uniform": func(r *rand.Rand, w []float32, in, out int) { uniform(r, w, math.Sqrt(6/float64(in+out))) },
	"glorot_normal":  func(r *rand.Rand, w []float32, in, out int) { truncNormal(r, w, math.Sqrt(2/float64(in+out))/truncStd) },
	"he_uniform":     func(r *rand.Rand, w []float32, in, _ int) { uniform(r, w, math.Sqrt(6/float64(in))) },
	"he_normal":      func(r *rand.Rand, w []float32, in, _ int) { truncNormal(r, w, math.Sqrt(2/float64(in))/truncStd) },
	"lecun_uniform":  func(r *rand.Rand, w []float32, in, _ int) { uniform(r, w, math.Sqrt(3/float64(in))) },
	"lecun_normal":   func(r *rand.Rand, w []float32, in, _ int) { truncNormal(r, w, math.Sqrt(1/float64(in))/truncStd) },
	"random_normal": func(r *rand.Rand, w []float32, _, _ int) {
		for i := range w {
			w[i] = float32(0.05 * r.NormFloat64())
		}
	},
	"random_uniform": func(r *rand.Rand, w []float32, _, _ int) { uniform(r, w, 0.05) },
	"zeros":          func(_ *rand.Rand, w []float32, _, _ int) { fill(w, 0) },
	"ones":           func(_ *rand.Rand, w []float32, _, _ int) { fill(w, 1) },
}

// truncStd is the standard deviation of a standard normal truncated to
// [−2, 2], the constant Keras's VarianceScaling divides by.
const truncStd = 0.87962566103423978

// InitializerNames returns the names Build and Initialize accept, sorted.
func InitializerNames() []string {
	names := make([]string, 0, len(initializers))
	for n := range initializers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func uniform(r *rand.Rand, w []float32, limit float64) {
	for i := range w {
		w[i] = float32(limit * (2*r.Float64() - 1))
	}
}

func truncNormal(r *rand.Rand, w []float32, std float64) {
	for i := range w {
		v := r.NormFloat64()
		for v < -2 || v > 2 {
			v = r.NormFloat64()
		}
		w[i] = float32(std * v)
	}
}

func fill(w []float32, v float32) {
	for i := range w {
		w[i] = v
	}
}

// newRand returns the package's generator for a seed: PCG seeded with
// (seed, stream).
func newRand(seed, stream uint64) (*rand.Rand, *rand.PCG) {
	src := rand.NewPCG(seed, stream)
	return rand.New(src), src
}

// streamInit is the stream of the initialisation generator, so that
// initialisation and shuffling (order.Stream) draw independent numbers
// from one seed.
const streamInit = 0x61656b6974696e69 // "aekitini"

// Initialize sets the kernel of every Dense layer of m, in sub-models too,
// with the named initializer (see InitializerNames; "" means
// glorot_uniform) and every bias to zero, as a fresh Keras Dense layer.
// Layers are initialised in execution order from one generator seeded with
// seed.
func Initialize(m *runtime.Model, init string, seed uint64) error {
	if init == "" {
		init = "glorot_uniform"
	}
	fn, ok := initializers[init]
	if !ok {
		return fmt.Errorf("%w %q (valid: %s)", ErrInitializer, init, strings.Join(InitializerNames(), ", "))
	}
	r, _ := newRand(seed, streamInit)
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type != runtime.Dense {
			return
		}
		if len(l.Kernel) != l.In*l.Units {
			l.Kernel = make([]float32, l.In*l.Units)
		}
		fn(r, l.Kernel, l.In, l.Units)
		fill(l.Bias, 0)
	})
	return nil
}

// Build returns a freshly initialised autoencoder for inputs of
// inputWidth values, described by spec: comma-separated layers
// "units:activation" after the input (activation names as
// runtime.ParseFunc; "units" alone is linear), with "|" between the
// encoder and the decoder, e.g. "10:relu,10:relu|100:sigmoid,100:sigmoid".
// Without "|" the encoder ends at the narrowest layer (the first one if
// several tie).
//
// The result is Model{Name: "autoencoder", Class: "Functional"} holding
// two SubModel layers "encoder" and "decoder" (Class "Sequential") whose
// Dense layers are named "dense", "dense_1", ... as Keras names them. When
// one side would be empty (a single layer, or the narrowest layer last) the
// Dense layers sit directly in a Sequential model named "model".
//
// Kernels use the named initializer (see Initialize; "" means
// glorot_uniform), biases start at zero. A layer may have at most MaxUnits
// units and the model at most MaxValues parameters; larger sizes are
// rejected before anything is allocated. Errors wrap ErrSpec,
// ErrInitializer or runtime.ErrActivation.
func Build(inputWidth int, spec string, init string, seed uint64) (*runtime.Model, error) {
	if inputWidth < 1 || inputWidth > MaxUnits {
		return nil, fmt.Errorf("%w: input width %d outside [1, %d]", ErrSpec, inputWidth, MaxUnits)
	}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("%w: empty", ErrSpec)
	}
	parts := strings.Split(spec, "|")
	if len(parts) > 2 {
		return nil, fmt.Errorf("%w %q: more than one '|'", ErrSpec, limits.Truncate(spec, 60))
	}
	var layers []*runtime.Layer
	split := -1
	in := inputWidth
	params := 0 // at most MaxValues + MaxUnits·(MaxUnits+1): no overflow
	for pi, part := range parts {
		if pi == 1 {
			split = len(layers)
		}
		if strings.TrimSpace(part) == "" {
			return nil, fmt.Errorf("%w %q: empty side of '|'", ErrSpec, limits.Truncate(spec, 60))
		}
		for _, item := range strings.Split(part, ",") {
			item = strings.TrimSpace(item)
			ustr, aname, _ := strings.Cut(item, ":")
			units, err := strconv.Atoi(strings.TrimSpace(ustr))
			if err != nil || units < 1 {
				return nil, fmt.Errorf("%w %q: layer %q: units must be a positive integer", ErrSpec, limits.Truncate(spec, 60), limits.Truncate(item, 40))
			}
			if units > MaxUnits {
				return nil, fmt.Errorf("%w %q: layer %q: %d units, more than the limit of %d", ErrSpec, limits.Truncate(spec, 60), limits.Truncate(item, 40), units, MaxUnits)
			}
			if params += in*units + units; params > MaxValues {
				return nil, fmt.Errorf("%w %q: layer %q (%d×%d kernel) takes the model to %d parameters, more than the limit of %d (%d GiB of float32)",
					ErrSpec, limits.Truncate(spec, 60), limits.Truncate(item, 40), in, units, params, MaxValues, MaxValues>>28)
			}
			f, err := runtime.ParseFunc(strings.TrimSpace(aname))
			if err != nil {
				return nil, fmt.Errorf("%w %q: layer %q: %w", ErrSpec, limits.Truncate(spec, 60), limits.Truncate(item, 40), err)
			}
			name := "dense"
			if len(layers) > 0 {
				name = fmt.Sprintf("dense_%d", len(layers))
			}
			layers = append(layers, &runtime.Layer{
				Name: name, Type: runtime.Dense, Class: "Dense",
				In: in, Units: units, Act: runtime.Act(f),
			})
			in = units
		}
	}
	// Allocated once every size has been checked.
	for _, l := range layers {
		l.Kernel, l.Bias = make([]float32, l.In*l.Units), make([]float32, l.Units)
	}
	if split < 0 {
		split = 0
		for i, l := range layers {
			if l.Units < layers[split].Units {
				split = i
			}
		}
		split++
	}
	var m *runtime.Model
	if split <= 0 || split >= len(layers) {
		m = &runtime.Model{Name: "model", Class: "Sequential", Input: []int{inputWidth}, Layers: layers}
	} else {
		enc := &runtime.Model{Name: "encoder", Class: "Sequential", Input: []int{inputWidth}, Layers: layers[:split]}
		dec := &runtime.Model{Name: "decoder", Class: "Sequential", Input: []int{layers[split-1].Units}, Layers: layers[split:]}
		m = &runtime.Model{Name: "autoencoder", Class: "Functional", Input: []int{inputWidth}, Layers: []*runtime.Layer{
			{Name: "encoder", Type: runtime.SubModel, Class: "Sequential", Sub: enc},
			{Name: "decoder", Type: runtime.SubModel, Class: "Sequential", Sub: dec},
		}}
	}
	m.InputName = "input_layer" // as Keras 3 names an Input
	if err := Initialize(m, init, seed); err != nil {
		return nil, err
	}
	return m, nil
}
