package conformance

import (
	"fmt"
	"math"

	"github.com/aekit/aekit/runtime"
)

// Reference computes m's outputs for n samples x with plain float64 loops,
// independently of package runtime's forward pass and kernels.
func Reference(m *runtime.Model, x []float32, n int) []float32 {
	cur := make([][]float64, n)
	w := m.InputWidth()
	for i := range cur {
		cur[i] = make([]float64, w)
		for j := range cur[i] {
			cur[i][j] = float64(x[i*w+j])
		}
	}
	cur = refModel(m, cur, m.Input)
	var out []float32
	for _, row := range cur {
		for _, v := range row {
			out = append(out, float32(v))
		}
	}
	return out
}

func refModel(m *runtime.Model, cur [][]float64, shape []int) [][]float64 {
	for _, l := range m.Layers {
		last := shape[len(shape)-1]
		switch l.Type {
		case runtime.Dense:
			for i, row := range cur {
				out := make([]float64, l.Units)
				for j := range out {
					s := 0.0
					if l.Bias != nil {
						s = float64(l.Bias[j])
					}
					for k, v := range row {
						s += v * float64(l.Kernel[k*l.Units+j])
					}
					out[j] = s
				}
				refAct(l.Act, out, l.Units)
				cur[i] = out
			}
			shape = []int{l.Units}
		case runtime.ActivationLayer:
			for _, row := range cur {
				refAct(l.Act, row, last)
			}
		case runtime.Reshape:
			shape = l.OutputShape(shape)
		case runtime.SubModel:
			cur = refModel(l.Sub, cur, shape)
			shape = l.Sub.OutputShape()
		case runtime.Identity:
		case runtime.Other:
			for _, row := range cur {
				refKind(l.Kind, row, last)
			}
		default:
			panic(fmt.Sprintf("conformance: layer type %v", l.Type))
		}
	}
	return cur
}

// refKind runs a kind on one sample in float64 from its behaviour.
func refKind(k runtime.Kind, x []float64, w int) {
	at := func(v []float32, j int) float64 {
		if len(v) == 1 {
			return float64(v[0])
		}
		return float64(v[j])
	}
	switch k := k.(type) {
	case runtime.Affine:
		scale, shift := k.Affine()
		for i := range x {
			x[i] = x[i]*at(scale, i%w) + at(shift, i%w)
		}
	case runtime.RowNorm:
		s := k.RowNorm()
		for r := 0; r+w <= len(x); r += w {
			row := x[r : r+w]
			if s.L2 {
				ss := 0.0
				for _, v := range row {
					ss += v * v
				}
				d := math.Sqrt(math.Max(ss, float64(s.Epsilon)))
				for j := range row {
					row[j] /= d
				}
				continue
			}
			mean, vr := 0.0, 0.0
			for _, v := range row {
				mean += v
			}
			mean /= float64(w)
			for _, v := range row {
				vr += (v - mean) * (v - mean)
			}
			vr /= float64(w)
			d := math.Sqrt(vr + float64(s.Epsilon))
			for j := range row {
				row[j] = (row[j] - mean) / d
				if s.Gamma != nil {
					row[j] *= float64(s.Gamma[j])
				}
				if s.Beta != nil {
					row[j] += float64(s.Beta[j])
				}
			}
		}
	default:
		panic(fmt.Sprintf("conformance: layer kind %s has no reference behaviour", k.Class()))
	}
}

func refAct(a runtime.Activation, x []float64, axis int) {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	sp := func(v float64) float64 { return math.Log(1 + math.Exp(v)) }
	alpha := float64(a.Alpha)
	for i, v := range x {
		switch a.Func {
		case runtime.ReLU:
			// Keras: x·[x > threshold] (relu(x) when threshold is 0),
			// clipped to [0, max_value], minus alpha·relu(threshold − x).
			th := float64(a.Threshold)
			pos := 0.0
			if v > th && (th != 0 || v > 0) {
				pos = v
			}
			if a.Capped {
				pos = math.Min(math.Max(pos, 0), float64(a.MaxValue))
			}
			if alpha != 0 {
				pos -= alpha * math.Max(th-v, 0)
			}
			v = pos
		case runtime.ReLU6:
			v = math.Min(math.Max(v, 0), 6)
		case runtime.LeakyReLU:
			if v < 0 {
				v *= alpha
			}
		case runtime.ELU:
			if v <= 0 {
				v = alpha * (math.Exp(v) - 1)
			}
		case runtime.SELU:
			if v <= 0 {
				v = runtime.SELUAlpha * (math.Exp(v) - 1)
			}
			v *= runtime.SELUScale
		case runtime.Sigmoid:
			v = sig(v)
		case runtime.HardSigmoid:
			v = math.Min(math.Max(alpha*v+float64(a.Beta), 0), 1)
		case runtime.Tanh:
			v = math.Tanh(v)
		case runtime.Softplus:
			v = sp(v)
		case runtime.Softsign:
			v = v / (1 + math.Abs(v))
		case runtime.Exponential:
			v = math.Exp(v)
		case runtime.Swish:
			v = v * sig(v)
		case runtime.GELU:
			if a.Approximate {
				v = 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
			} else {
				v = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
			}
		case runtime.Mish:
			v = v * math.Tanh(sp(v))
		}
		x[i] = v
	}
	if a.Func == runtime.Softmax || a.Func == runtime.LogSoftmax {
		for r := 0; r+axis <= len(x); r += axis {
			row := x[r : r+axis]
			s := 0.0
			for _, v := range row {
				s += math.Exp(v)
			}
			for j, v := range row {
				if a.Func == runtime.Softmax {
					row[j] = math.Exp(v) / s
				} else {
					row[j] = v - math.Log(s)
				}
			}
		}
	}
}
