// Package idx reads the IDX files of MNIST and Fashion-MNIST (the
// benchmarks' and the quality run's data): 3-D arrays of uint8 images,
// gzip-compressed or not.
//
// The files are untrusted input: the header's dimensions are bounded, and
// the pixels are read as they arrive, so a header promising more than the
// file holds allocates no more than the file's bytes.
package idx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/aekit/aekit/internal/inputfile"
)

// ErrFormat reports a file that is not a 3-D uint8 IDX array or whose
// size disagrees with its header.
var ErrFormat = errors.New("idx: not a 3-D uint8 IDX file")

// MaxPixels bounds N·Rows·Cols: 1 GiB of pixels, far above the 47 MB of
// Fashion-MNIST's training set.
const MaxPixels = 1 << 30

// Images is N images of Rows×Cols uint8 pixels, row-major, image after
// image.
type Images struct {
	N, Rows, Cols int
	Pix           []byte
}

// Width is the number of pixels of one image, Rows·Cols.
func (im *Images) Width() int { return im.Rows * im.Cols }

// Scaled returns the pixels divided by 255, as float32 in [0, 1]: the
// scaling aekit train applies to uint8 data.
func (im *Images) Scaled() []float32 {
	x := make([]float32, len(im.Pix))
	for i, p := range im.Pix {
		x[i] = float32(p) / 255
	}
	return x
}

// Read reads an uncompressed IDX array of uint8 images (magic 0x00000803)
// from r, which must end where the pixels do. Errors wrap ErrFormat.
func Read(r io.Reader) (*Images, error) {
	var hdr [4]uint32
	if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrFormat, err)
	}
	if hdr[0] != 0x803 {
		return nil, fmt.Errorf("%w: magic %#08x, want 0x00000803", ErrFormat, hdr[0])
	}
	n, rows, cols := int64(hdr[1]), int64(hdr[2]), int64(hdr[3])
	want, ok := pixels(n, rows, cols)
	if !ok {
		return nil, fmt.Errorf("%w: %d images of %d×%d pixels (at most %d pixels in all)", ErrFormat, n, rows, cols, MaxPixels)
	}
	var b bytes.Buffer
	got, err := b.ReadFrom(io.LimitReader(r, want+1))
	if err != nil {
		return nil, fmt.Errorf("%w: pixels: %w", ErrFormat, err)
	}
	if got != want {
		return nil, fmt.Errorf("%w: %d bytes of pixels, header says %d images of %d×%d", ErrFormat, got, n, rows, cols)
	}
	return &Images{N: int(n), Rows: int(rows), Cols: int(cols), Pix: b.Bytes()}, nil
}

// pixels returns the product of dims, false when a dimension is 0 or the
// product exceeds MaxPixels. It checks before each multiplication, so the
// product never overflows.
func pixels(dims ...int64) (int64, bool) {
	p := int64(1)
	for _, d := range dims {
		if d <= 0 || d > MaxPixels/p {
			return 0, false
		}
		p *= d
	}
	return p, true
}

// ReadFile reads the IDX file name (gzip-compressed when it starts with
// gzip's magic bytes, as the .gz files the datasets ship). It refuses
// anything but a regular file (see internal/inputfile). Errors name the
// file; a missing file's error wraps os.ErrNotExist.
func ReadFile(name string) (*Images, error) {
	f, _, err := inputfile.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer zr.Close()
		r = zr
	}
	im, err := Read(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return im, nil
}
