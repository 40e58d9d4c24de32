package npy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// fixtureDir holds the files written by fixtures/npy/gen.py.
const fixtureDir = "../fixtures/npy"

// fixture is one array of fixtures/npy/expected.json.
type fixture struct {
	File   string            `json:"file"`
	Key    string            `json:"key"`
	Descr  string            `json:"descr"`
	Shape  []int             `json:"shape"`
	Values []json.RawMessage `json:"values"`
}

// loadFixtures reads expected.json and decodes the expected float32 values.
func loadFixtures(t testing.TB) ([]fixture, [][]float32) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "expected.json"))
	if err != nil {
		t.Fatalf("reading fixtures (rerun /usr/bin/python3 fixtures/npy/gen.py?): %v", err)
	}
	var doc struct {
		Arrays []fixture `json:"arrays"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("expected.json: %v", err)
	}
	if len(doc.Arrays) == 0 {
		t.Fatal("expected.json lists no arrays")
	}
	want := make([][]float32, len(doc.Arrays))
	for i, fx := range doc.Arrays {
		want[i] = make([]float32, len(fx.Values))
		for j, raw := range fx.Values {
			v, err := fixtureValue(raw)
			if err != nil {
				t.Fatalf("%s[%s] value %d: %v", fx.File, fx.Key, j, err)
			}
			want[i][j] = v
		}
	}
	return doc.Arrays, want
}

// fixtureValue decodes an exact JSON number or a "0x..." float32 bit pattern.
func fixtureValue(raw json.RawMessage) (float32, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		bits, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 32)
		return math.Float32frombits(uint32(bits)), err
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return 0, err
	}
	if float64(float32(f)) != f {
		return 0, fmt.Errorf("%s is not exactly a float32", raw)
	}
	return float32(f), nil
}

// sameBits reports the first index where got and want differ bit for bit.
func sameBits(got, want []float32) (int, bool) {
	if len(got) != len(want) {
		return min(len(got), len(want)), false
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i, false
		}
	}
	return 0, true
}

// readers are the ways of reading a fixture; every one must give the
// same array. Map applies only to mappable files and is tested in
// TestFixturesMap.
var readers = []struct {
	name string
	npz  bool // can read a member of an .npz
	read func(path, key string) (*Array, error)
}{
	{"ReadFileArray", true, ReadFileArray},
	{"decodeFile", true, func(path, key string) (*Array, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		a, _, err := decodeFile(bytes.NewReader(b), int64(len(b)), key)
		return a, err
	}},
	{"Read/os.File", false, func(path, _ string) (*Array, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return Read(f)
	}},
	{"Read/bytes.Reader", false, func(path, _ string) (*Array, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return Read(bytes.NewReader(b))
	}},
	{"Read/OneByteReader", false, func(path, _ string) (*Array, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return Read(iotest.OneByteReader(bytes.NewReader(b)))
	}},
}

func TestFixtures(t *testing.T) {
	fxs, want := loadFixtures(t)
	for i, fx := range fxs {
		for _, rd := range readers {
			isNPZ := strings.HasSuffix(fx.File, ".npz")
			if isNPZ && !rd.npz {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s[%s]", rd.name, fx.File, fx.Key), func(t *testing.T) {
				a, err := rd.read(filepath.Join(fixtureDir, fx.File), fx.Key)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(a.Shape, fx.Shape) {
					t.Errorf("Shape = %v, want %v", a.Shape, fx.Shape)
				}
				if a.DType != fx.Descr {
					t.Errorf("DType = %q, want %q", a.DType, fx.Descr)
				}
				if j, ok := sameBits(a.Data, want[i]); !ok {
					if j < len(a.Data) && j < len(want[i]) {
						t.Errorf("Data[%d] = %v (%#08x), want %v (%#08x)", j, a.Data[j], math.Float32bits(a.Data[j]), want[i][j], math.Float32bits(want[i][j]))
					} else {
						t.Errorf("len(Data) = %d, want %d", len(a.Data), len(want[i]))
					}
				}
			})
		}
	}
}

// TestFixturesCoverage guards the fixture set against losing a case.
func TestFixturesCoverage(t *testing.T) {
	fxs, _ := loadFixtures(t)
	descrs := map[string]bool{}
	var fortran, v2, v3, npz, compressed, nonFinite, images bool
	_, want := loadFixtures(t)
	for i, fx := range fxs {
		descrs[fx.Descr] = true
		fortran = fortran || strings.Contains(fx.File, "fortran")
		v2 = v2 || strings.HasPrefix(fx.File, "v2")
		v3 = v3 || strings.HasPrefix(fx.File, "v3")
		npz = npz || strings.HasSuffix(fx.File, ".npz")
		compressed = compressed || strings.Contains(fx.File, "compressed")
		images = images || len(fx.Shape) == 3 && fx.Shape[1] == 28 && fx.Shape[2] == 28
		a := &Array{Shape: fx.Shape, Data: want[i]}
		_, _, nf := a.FirstNonFinite()
		nonFinite = nonFinite || nf
	}
	for _, d := range []string{"|b1", "|i1", "|u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", ">u4",
		"<i8", ">i8", "<u8", ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8"} {
		if !descrs[d] {
			t.Errorf("no fixture of dtype %s", d)
		}
	}
	for name, ok := range map[string]bool{"Fortran order": fortran, "version 2.0": v2, "version 3.0": v3,
		".npz": npz, "compressed .npz": compressed, "NaN/Inf": nonFinite, "28x28 images": images} {
		if !ok {
			t.Errorf("no %s fixture", name)
		}
	}
}

// TestFixturesMap maps every fixture Map accepts and checks it against
// the expected values, and checks that Map refuses the others.
func TestFixturesMap(t *testing.T) {
	fxs, want := loadFixtures(t)
	mapped := 0
	for i, fx := range fxs {
		if fx.Key != "" {
			continue
		}
		path := filepath.Join(fixtureDir, fx.File)
		mappable := fx.Descr == "<f4" && !strings.Contains(fx.File, "fortran") && !strings.HasSuffix(fx.File, ".npz")
		for _, impl := range mapImpls {
			m, err := impl.mapFile(path)
			if !mappable {
				if !errors.Is(err, ErrNotMappable) {
					t.Errorf("%s(%s): error %v, want ErrNotMappable", impl.name, fx.File, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s(%s): %v", impl.name, fx.File, err)
				continue
			}
			if !slices.Equal(m.Shape, fx.Shape) || m.DType != fx.Descr {
				t.Errorf("%s(%s): shape %v dtype %s, want %v %s", impl.name, fx.File, m.Shape, m.DType, fx.Shape, fx.Descr)
			}
			if j, ok := sameBits(m.Data, want[i]); !ok {
				t.Errorf("%s(%s): data differs at %d", impl.name, fx.File, j)
			}
			if err := m.Close(); err != nil {
				t.Errorf("%s(%s): Close: %v", impl.name, fx.File, err)
			}
			mapped++
		}
	}
	if mapped == 0 {
		t.Error("no fixture was mapped")
	}
}

// TestWriteMatchesNumpy checks that Write produces the very bytes
// numpy.save writes for the '<f4' C-order version 1.0 fixtures.
func TestWriteMatchesNumpy(t *testing.T) {
	fxs, _ := loadFixtures(t)
	n := 0
	for _, fx := range fxs {
		if fx.Descr != "<f4" || fx.Key != "" || strings.Contains(fx.File, "fortran") ||
			strings.HasSuffix(fx.File, ".npz") || strings.HasPrefix(fx.File, "v2_") || strings.HasPrefix(fx.File, "v3_") {
			continue
		}
		path := filepath.Join(fixtureDir, fx.File)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), orig) {
			t.Errorf("%s: Write output differs from numpy's:\n got %q\nwant %q", fx.File, head(buf.Bytes()), head(orig))
		}
		n++
	}
	if n < 4 {
		t.Errorf("only %d fixtures compared", n)
	}
}

func head(b []byte) []byte { return b[:min(len(b), 140)] }
