package keras

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aekit/aekit/internal/interop"
)

// sharedDir returns the folder of real Keras files: $AEKIT_SHARED/keras-real
// or ../../shared/keras-real. It skips the test if the folder is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir := sharedDirOrEmpty()
	if dir == "" {
		t.Skipf("real Keras files not found at $AEKIT_SHARED/keras-real or ../../shared/keras-real (set AEKIT_SHARED to the folder holding keras-real)")
	}
	return dir
}

// compactJSON reads the JSON file name and returns it re-encoded without
// white space, so that tests can edit it by plain string replacement.
func compactJSON(t testing.TB, name string) string {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sharedDirOrEmpty is sharedDir without the skip: "" when absent.
func sharedDirOrEmpty() string {
	dir := os.Getenv("AEKIT_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared")
	}
	dir = filepath.Join(dir, "keras-real")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

const fixtures = "../fixtures/keras"

// readNpy reads a little-endian float32 or float64 C-order .npy file as
// float32, with its shape.
func readNpy(t testing.TB, name string) ([]float32, []int) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		t.Fatalf("%s: not a .npy file", name)
	}
	var hlen, off int
	if b[6] == 1 {
		hlen, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	} else {
		hlen, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	h := string(b[off : off+hlen])
	data := b[off+hlen:]
	if strings.Contains(h, "'fortran_order': True") {
		t.Fatalf("%s: Fortran order", name)
	}
	i := strings.Index(h, "'shape': (")
	j := strings.Index(h[i:], ")")
	var shape []int
	for _, s := range strings.Split(h[i+len("'shape': ("):i+j], ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s: shape %q", name, h)
		}
		shape = append(shape, n)
	}
	var out []float32
	switch {
	case strings.Contains(h, "'<f4'"):
		for k := 0; k+4 <= len(data); k += 4 {
			out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(data[k:])))
		}
	case strings.Contains(h, "'<f8'"):
		for k := 0; k+8 <= len(data); k += 8 {
			out = append(out, float32(math.Float64frombits(binary.LittleEndian.Uint64(data[k:]))))
		}
	default:
		t.Fatalf("%s: dtype in %q", name, h)
	}
	return out, shape
}

// python returns /usr/bin/python3 if it imports h5py and numpy. Otherwise
// it skips the test, or fails it when AEKIT_INTEROP=1.
func python(t testing.TB) string {
	t.Helper()
	const py = "/usr/bin/python3"
	pyOnce.Do(func() { pyErr = exec.Command(py, "-c", "import h5py, numpy").Run() })
	interop.Need(t, py+" with h5py and numpy", pyErr)
	return py
}

// maxAbs returns the largest |a[i]-b[i]|.
func maxAbs(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// captureStderr runs fn with file descriptor 2 redirected to a pipe and
// returns what was written to it, so tests can check that HDF5 printed
// nothing.
func captureStderr(t testing.TB, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	restore, err := redirectFd2(w)
	if err != nil {
		t.Skipf("cannot redirect fd 2: %v", err)
	}
	done := make(chan []byte)
	go func() {
		var b bytes.Buffer
		b.ReadFrom(r)
		done <- b.Bytes()
	}()
	fn()
	restore()
	w.Close()
	out := <-done
	r.Close()
	return string(out)
}

var (
	pyOnce sync.Once
	pyErr  error
)

func describe(shape []int) string { return fmt.Sprint(shape) }
