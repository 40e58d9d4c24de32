//go:build linux

package train

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/aekit/aekit/npy"
)

// checkReleased requires that no page of the mapping holding a is
// resident in this process (/proc/self/smaps): Fit released them.
func checkReleased(t *testing.T, a []float32) {
	t.Helper()
	addr := uint64(uintptr(unsafe.Pointer(&a[0])))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("cannot read /proc/self/smaps: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	in := false
	for s.Scan() {
		line := s.Text()
		if lo, hi, ok := strings.Cut(strings.Fields(line)[0], "-"); ok && !strings.HasSuffix(line, ":") && !strings.Contains(lo, ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				in = l <= addr && addr < h
				continue
			}
		}
		if in && strings.HasPrefix(line, "Rss:") {
			if f := strings.Fields(line); len(f) < 2 || f[1] != "0" {
				t.Errorf("mapping still has %s resident after Fit", strings.Join(f[1:], " "))
			}
			return
		}
	}
	t.Error("mapping not found in /proc/self/smaps")
}

// TestMappedGoMemory: in-memory data is never released or written (the
// advice for mapped pages would zero Go memory): the data are unchanged
// and training through ReadRows gives the same result as in place.
func TestMappedGoMemory(t *testing.T) {
	x := randData(13, 300*20)
	keep := append([]float32(nil), x...)
	if _, ok := Slice(x, 20).(Releaser); ok {
		t.Fatal("in-memory data has a Release")
	}
	cfg := baseConfig(&Adam{})
	ref := fitModel(t, 4)
	if _, err := Fit(context.Background(), ref, set(x, nil, 300), Set{}, cfg); err != nil {
		t.Fatal(err)
	}
	m := fitModel(t, 4)
	if _, err := Fit(context.Background(), m, Set{X: readOnly{Slice(x, 20)}}, Set{}, cfg); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "data", keep, x)
	sameBits(t, "weights", flatWeights(ref), flatWeights(m))
}

// TestRowFile checks that a mapped file's rows read by index are those
// the mapping holds, and that a training step gathering shuffled rows
// with pread allocates nothing, touching no page of the mapping.
func TestRowFile(t *testing.T) {
	const n, w = 50, 13
	x := randData(14, n*w)
	name := filepath.Join(t.TempDir(), "x.npy")
	if err := npy.WriteFile(name, &npy.Array{Shape: []int{n, w}, Data: x}); err != nil {
		t.Fatal(err)
	}
	mp, err := npy.Map(name)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	mx, err := mp.Matrix(w)
	if err != nil {
		t.Fatal(err)
	}
	var d Data = mx // npy.Matrix is a Data, structurally
	row := make([]float32, w)
	for _, i := range []int{0, 17, n - 1} {
		if err := d.ReadRows(row, []int{i}); err != nil {
			t.Fatal(err)
		}
		sameBits(t, "row", x[i*w:(i+1)*w], row)
	}

	// A training step gathering shuffled rows with pread allocates
	// nothing either.
	m, err := buildSpec(w, "4:relu|13:sigmoid", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	nt, err := newNet(m, BinaryCrossentropy, 16, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer nt.close()
	idx := permutations(2, n, 1)[0]
	if _, err := nt.batch(d, d, idx, 0, 16, true); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(20, func() { nt.batch(d, d, idx, 16, 16, true) }); a != 0 {
		t.Errorf("%v allocations per step with pread gathering", a)
	}
	checkReleased(t, mp.Data)
}
