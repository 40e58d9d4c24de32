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

// TestMappedGoMemory: MADV_DONTNEED would zero Go memory, so Mapped
// leaves data that is not a file mapping alone: the data are unchanged
// and training gives the same result as without Mapped.
func TestMappedGoMemory(t *testing.T) {
	x := randData(13, 300*20)
	keep := append([]float32(nil), x...)
	if p := newPager(true, x); p != nil {
		t.Fatalf("pager for Go memory: %+v", p)
	}
	cfg := baseConfig(&Adam{})
	ref := fitModel(t, 4)
	if _, err := Fit(context.Background(), ref, x, nil, 300, cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Mapped = true
	m := fitModel(t, 4)
	if _, err := Fit(context.Background(), m, x, nil, 300, cfg); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "data", keep, x)
	sameBits(t, "weights", flatWeights(ref), flatWeights(m))
	// And the safety check itself.
	if _, err := checkMapped(x); err == nil || !strings.Contains(err.Error(), "not a file mapping") {
		t.Errorf("checkMapped(Go memory) = %v", err)
	}
}

// TestRowFile checks that the pager finds the file behind a mapping and
// reads the same rows from it as the mapping holds.
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
	p := newPager(true, mp.Data, mp.Data[10*w:])
	if p == nil || len(p.data) != 1 {
		t.Fatalf("pager %+v, want one slice", p)
	}
	defer p.close()
	rf := p.file(mp.Data)
	if rf == nil {
		t.Fatal("no file found for the mapping")
	}
	row := make([]float32, w)
	for _, i := range []int{0, 17, n - 1} {
		if err := rf.read(row, i*w); err != nil {
			t.Fatal(err)
		}
		sameBits(t, "row", x[i*w:(i+1)*w], row)
	}

	// A training step gathering shuffled rows with pread allocates
	// nothing either.
	m, err := Build(w, "4:relu|13:sigmoid", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	nt, err := newNet(m, BinaryCrossentropy, 16, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer nt.close()
	nt.pg = p
	idx := Permutations(2, n, 1)[0]
	nt.batch(mp.Data, mp.Data, idx, 0, 16, true)
	if nt.srcFile == nil {
		t.Fatal("the batch did not read rows from the file")
	}
	if a := testing.AllocsPerRun(20, func() { nt.batch(mp.Data, mp.Data, idx, 16, 16, true) }); a != 0 {
		t.Errorf("%v allocations per step with pread gathering", a)
	}
}
