package onnx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Minimal float32 .npy reading and writing for the tests, so that they do
// not depend on another package of this module.

func writeNpy(name string, dims []int, v []float32) error {
	ds := make([]string, len(dims))
	for i, d := range dims {
		ds[i] = strconv.Itoa(d)
	}
	shape := strings.Join(ds, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape)
	pad := (64 - (10+len(h)+1)%64) % 64
	h += strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(f32Bytes(v))
	return os.WriteFile(name, b.Bytes(), 0o644)
}

var npyRE = regexp.MustCompile(`'descr':\s*'([^']*)'.*'fortran_order':\s*(True|False).*'shape':\s*\(([^)]*)\)`)

func readNpy(name string) ([]int, []float32, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, nil, fmt.Errorf("%s: not a .npy file", name)
	}
	hl, start := int(binary.LittleEndian.Uint16(b[8:])), 10
	if b[6] >= 2 {
		hl, start = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	if start+hl > len(b) {
		return nil, nil, fmt.Errorf("%s: truncated header", name)
	}
	m := npyRE.FindStringSubmatch(string(b[start : start+hl]))
	if m == nil || m[1] != "<f4" || m[2] != "False" {
		return nil, nil, fmt.Errorf("%s: want a C-order <f4 array, header %q", name, b[start:start+hl])
	}
	var dims []int
	n := 1
	for _, f := range strings.Split(m[3], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: shape %q", name, m[3])
		}
		dims = append(dims, d)
		n *= d
	}
	data := b[start+hl:]
	if len(data) != 4*n {
		return nil, nil, fmt.Errorf("%s: %d data bytes, want %d", name, len(data), 4*n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return dims, v, nil
}
