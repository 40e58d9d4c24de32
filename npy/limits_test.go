package npy

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// npzOf packs .npy members into an .npz, deflated.
func npzOf(t *testing.T, members ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for i := 0; i < len(members); i += 2 {
		w, err := z.CreateHeader(&zip.FileHeader{Name: members[i].(string), Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if err := Write(w, members[i+1].(*Array)); err != nil {
			t.Fatal(err)
		}
	}
	z.Close()
	return b.Bytes()
}

func writeTemp(t *testing.T, b []byte) string {
	name := filepath.Join(t.TempDir(), "x.npz")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestNPZLimits(t *testing.T) {
	small := &Array{Shape: []int{2, 3}, Data: make([]float32, 6)}
	// 12 MiB of zeros: past the 8 MiB floor, compressed about 1000:1.
	zeros := &Array{Shape: []int{3 << 20}, Data: make([]float32, 3<<20)}
	bomb := writeTemp(t, npzOf(t, "x.npy", zeros))
	if _, err := ReadFile(bomb); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "npy.Options.MaxMemberRatio") || !strings.Contains(err.Error(), bomb) {
		t.Errorf("bomb: %v", err)
	}
	if a, err := ReadFileOptions(bomb, "", &Options{MaxMemberRatio: 1 << 20}); err != nil || len(a.Data) != 3<<20 {
		t.Errorf("bomb with the ratio raised: %v", err)
	}
	two := writeTemp(t, npzOf(t, "x.npy", small, "y.npy", small))
	for _, c := range []struct {
		opt   Options
		field string
	}{{Options{MaxMemberBytes: 100}, "MaxMemberBytes"}, {Options{MaxArchiveBytes: 200}, "MaxArchiveBytes"}} {
		if _, err := ReadFileOptions(two, "x", &c.opt); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v", c.field, err)
		}
	}
	if _, err := ReadFileOptions(two, "x", &Options{MaxMemberBytes: 200, MaxArchiveBytes: 400}); err != nil {
		t.Errorf("under the limits: %v", err)
	}
	dup := writeTemp(t, npzOf(t, "x.npy", small, "x.npy", small))
	if _, err := ReadFile(dup); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), `two arrays named "x"`) {
		t.Errorf("duplicate: %v", err)
	}
	enc := npzOf(t, "x.npy", small)
	enc[6] |= 1
	enc[bytes.Index(enc, []byte("PK\x01\x02"))+8] |= 1
	if _, err := ReadFile(writeTemp(t, enc)); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted: %v", err)
	}
}

func TestLongTokensCut(t *testing.T) {
	long := strings.Repeat("9", 5000)
	for _, h := range []string{
		fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s,), }", long),
		fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%sx,), }", long),
		fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (1,), }", long),
		fmt.Sprintf("{'%s': 1}", long),
	} {
		b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)+1), byte((len(h)+1)>>8))
		b = append(append(b, h...), '\n')
		_, err := Read(bytes.NewReader(b))
		if err == nil || len(err.Error()) > 300 {
			t.Errorf("%d-byte error: %.100v", len(fmt.Sprint(err)), err)
		}
	}
}
