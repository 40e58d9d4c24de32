package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/aekit/aekit/runtime"
)

// Initializer names a kernel initializer, by its Keras name: one of the
// constants below ("" means GlorotUniform, Keras's default). ParseInitializer
// checks a name given as text.
type Initializer string

// The initializers, with Keras's definitions (see initializers).
const (
	GlorotUniform Initializer = "glorot_uniform"
	GlorotNormal  Initializer = "glorot_normal"
	HeUniform     Initializer = "he_uniform"
	HeNormal      Initializer = "he_normal"
	LecunUniform  Initializer = "lecun_uniform"
	LecunNormal   Initializer = "lecun_normal"
	RandomNormal  Initializer = "random_normal"
	RandomUniform Initializer = "random_uniform"
	Zeros         Initializer = "zeros"
	Ones          Initializer = "ones"
)

// ParseInitializer returns the initializer named name ("" means
// GlorotUniform); an unknown name gives an error wrapping ErrInitializer
// that lists the valid ones.
func ParseInitializer(name string) (Initializer, error) {
	if name == "" {
		return GlorotUniform, nil
	}
	if _, ok := initializers[Initializer(name)]; !ok {
		return "", fmt.Errorf("%w %q (valid: %s)", ErrInitializer, name, strings.Join(InitializerNames(), ", "))
	}
	return Initializer(name), nil
}

// initializers are the Initializers accepted by Build and Initialize, with Keras's
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
var initializers = map[Initializer]func(r *rand.Rand, w []float32, fanIn, fanOut int){
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
		names = append(names, string(n))
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
func Initialize(m *runtime.Model, init Initializer, seed uint64) error {
	init, err := ParseInitializer(string(init))
	if err != nil {
		return err
	}
	fn := initializers[init]
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
