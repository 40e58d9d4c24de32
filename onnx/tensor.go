package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	pb "github.com/aekit/aekit/internal/onnxpb"
)

// maxElems bounds the number of values in one tensor (2³¹).
const maxElems = min(1<<31, math.MaxInt32)

// tensor is a decoded constant: float values (from float or double data)
// or integer values (int64, int32, bool), with its dimensions.
type tensor struct {
	dims  []int
	f     []float32
	i     []int64
	isInt bool
}

func (t *tensor) len() int {
	if t.isInt {
		return len(t.i)
	}
	return len(t.f)
}

// float returns the values as float32 (integers converted).
func (t *tensor) float() []float32 {
	if !t.isInt {
		return t.f
	}
	f := make([]float32, len(t.i))
	for k, v := range t.i {
		f[k] = float32(v)
	}
	return f
}

// scalar returns the single value of a one-element tensor.
func (t *tensor) scalar() (float64, bool) {
	if t.len() != 1 {
		return 0, false
	}
	if t.isInt {
		return float64(t.i[0]), true
	}
	return float64(t.f[0]), true
}

// tensorDims checks dims and returns them with their product.
func tensorDims(dims []int64) ([]int, int, error) {
	out := make([]int, len(dims))
	n := 1
	for k, d := range dims {
		if d < 0 || d > maxElems {
			return nil, 0, fmt.Errorf("dimension %d is %d", k, d)
		}
		out[k] = int(d)
		if d != 0 && n > maxElems/int(d) {
			return nil, 0, fmt.Errorf("shape %v has more than 2³¹ values", dims)
		}
		n *= int(d)
	}
	return out, n, nil
}

// decodeTensor decodes an initializer or Constant value.
func decodeTensor(t *pb.TensorProto) (*tensor, error) {
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, fmt.Errorf("%w: tensor %q", ErrExternalData, t.GetName())
	}
	if t.GetSegment() != nil {
		return nil, fmt.Errorf("%w: tensor %q is segmented", ErrFormat, t.GetName())
	}
	dims, n, err := tensorDims(t.GetDims())
	if err != nil {
		return nil, fmt.Errorf("%w: tensor %q: %v", ErrFormat, t.GetName(), err)
	}
	out := &tensor{dims: dims}
	raw := t.GetRawData()
	if len(raw) > 0 && len(t.GetFloatData())+len(t.GetInt32Data())+len(t.GetStringData())+len(t.GetInt64Data())+
		len(t.GetDoubleData())+len(t.GetUint64Data()) > 0 {
		// The spec: when raw_data is set, the typed fields must be empty.
		return nil, fmt.Errorf("%w: tensor %q has both raw_data and typed data", ErrFormat, t.GetName())
	}
	bad := func(got int, what string) error {
		return fmt.Errorf("%w: tensor %q of shape %v has %d %s values, want %d", ErrFormat, t.GetName(), dims, got, what, n)
	}
	rawN := func(size int) (bool, error) {
		if len(raw) == 0 {
			return false, nil
		}
		if len(raw) != n*size {
			return false, fmt.Errorf("%w: tensor %q of shape %v has %d bytes of raw_data, want %d×%d", ErrFormat, t.GetName(), dims, len(raw), n, size)
		}
		return true, nil
	}
	dt := pb.TensorProto_DataType(t.GetDataType())
	switch dt {
	case pb.TensorProto_FLOAT:
		out.f = make([]float32, 0, min(n, len(raw)/4+len(t.GetFloatData())))
		if ok, err := rawN(4); err != nil {
			return nil, err
		} else if ok {
			for k := 0; k < n; k++ {
				out.f = append(out.f, math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:])))
			}
		} else {
			if len(t.GetFloatData()) != n {
				return nil, bad(len(t.GetFloatData()), "float_data")
			}
			out.f = append(out.f, t.GetFloatData()...)
		}
	case pb.TensorProto_DOUBLE:
		out.f = make([]float32, 0, min(n, len(raw)/8+len(t.GetDoubleData())))
		if ok, err := rawN(8); err != nil {
			return nil, err
		} else if ok {
			for k := 0; k < n; k++ {
				out.f = append(out.f, float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*k:]))))
			}
		} else {
			if len(t.GetDoubleData()) != n {
				return nil, bad(len(t.GetDoubleData()), "double_data")
			}
			for _, v := range t.GetDoubleData() {
				out.f = append(out.f, float32(v))
			}
		}
	case pb.TensorProto_INT64:
		out.isInt = true
		out.i = make([]int64, 0, min(n, len(raw)/8+len(t.GetInt64Data())))
		if ok, err := rawN(8); err != nil {
			return nil, err
		} else if ok {
			for k := 0; k < n; k++ {
				out.i = append(out.i, int64(binary.LittleEndian.Uint64(raw[8*k:])))
			}
		} else {
			if len(t.GetInt64Data()) != n {
				return nil, bad(len(t.GetInt64Data()), "int64_data")
			}
			out.i = append(out.i, t.GetInt64Data()...)
		}
	case pb.TensorProto_INT32, pb.TensorProto_BOOL:
		size := 4
		if dt == pb.TensorProto_BOOL {
			size = 1
		}
		out.isInt = true
		out.i = make([]int64, 0, min(n, len(raw)/size+len(t.GetInt32Data())))
		if ok, err := rawN(size); err != nil {
			return nil, err
		} else if ok {
			for k := 0; k < n; k++ {
				if size == 1 {
					out.i = append(out.i, int64(raw[k]))
				} else {
					out.i = append(out.i, int64(int32(binary.LittleEndian.Uint32(raw[4*k:]))))
				}
			}
		} else {
			if len(t.GetInt32Data()) != n {
				return nil, bad(len(t.GetInt32Data()), "int32_data")
			}
			for _, v := range t.GetInt32Data() {
				out.i = append(out.i, int64(v))
			}
		}
	default:
		return nil, fmt.Errorf("%w: tensor %q has element type %v; aekit reads float, double, int64, int32 and bool tensors",
			ErrUnsupportedType, t.GetName(), dt)
	}
	return out, nil
}
