package npy

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/internal/inputfile"
	"github.com/aekit/aekit/internal/limits"
)

// ReadFile reads the .npy or .npz file name. The kind of file is told by
// its first bytes, not its extension. From an .npz archive it reads the
// only array, or else the array named "x", or else "arr_0" (the name
// numpy.savez gives its first positional argument); with several arrays
// and none of those names the error wraps ErrNotFound and lists the names.
//
// Errors name the file and wrap the sentinel errors of this package.
func ReadFile(name string) (*Array, error) {
	return ReadFileArray(name, "")
}

// ReadFileArray is like ReadFile but reads the array called key from an
// .npz archive, with or without its ".npy" suffix ("x" and "x.npy" name the
// same array). An empty key picks the default array as ReadFile does. A
// non-empty key for a .npy file is an error wrapping ErrNotFound.
func ReadFileArray(name, key string) (*Array, error) {
	return ReadFileOptions(name, key, nil)
}

// Default limits on .npz archives (see Options).
const (
	DefaultMaxMemberBytes  = 2 << 30 // 2 GiB per member, decompressed
	DefaultMaxArchiveBytes = 8 << 30 // 8 GiB for all members
	DefaultMaxMemberRatio  = 200     // decompressed bytes per compressed byte
)

// Options sets the resource limits of ReadFileOptions. A zero field (or a
// nil *Options) selects the default. An archive beyond a limit fails,
// before anything is decompressed, with an error wrapping ErrTooLarge
// that names the field. Plain .npy files are bounded by their size.
type Options struct {
	// MaxMemberBytes bounds the decompressed size of each .npz member
	// (DefaultMaxMemberBytes, 2 GiB; the float32 array read from it takes
	// up to 4 times that for uint8 data).
	MaxMemberBytes int64
	// MaxArchiveBytes bounds the decompressed size of all members
	// together (DefaultMaxArchiveBytes, 8 GiB).
	MaxArchiveBytes int64
	// MaxMemberRatio bounds a member's decompressed size per compressed
	// byte, for members over 8 MiB (DefaultMaxMemberRatio, 200; real
	// data sets reach 10 or so, zip bombs about 1000).
	MaxMemberRatio int64
}

func (o *Options) zip() limits.Zip {
	if o == nil {
		o = &Options{}
	}
	def := func(v, d int64) int64 {
		if v <= 0 {
			return d
		}
		return v
	}
	return limits.Zip{MaxMember: def(o.MaxMemberBytes, DefaultMaxMemberBytes), MaxTotal: def(o.MaxArchiveBytes, DefaultMaxArchiveBytes),
		MaxRatio: def(o.MaxMemberRatio, DefaultMaxMemberRatio), Option: "npy.Options", Err: ErrTooLarge, FormatErr: ErrFormat}
}

// ReadFileOptions is ReadFileArray with the limits of opt (nil: the
// defaults). A name that is not a regular file (a FIFO, a device) is
// refused before it is read, with an error wrapping
// inputfile.ErrNotRegular.
func ReadFileOptions(name, key string, opt *Options) (*Array, error) {
	f, size, err := inputfile.Open(name)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	a, key, err := decodeFileOptions(f, size, key, opt)
	if err != nil {
		return nil, &fileError{name: name, key: key, err: err}
	}
	return a, nil
}

// decodeFile reads a .npy file or an array of an .npz file from r, which
// holds size bytes. It returns the name of the array read from an .npz.
func decodeFile(r io.ReaderAt, size int64, key string) (*Array, string, error) {
	return decodeFileOptions(r, size, key, nil)
}

// decodeFileOptions is decodeFile with the limits of opt.
func decodeFileOptions(r io.ReaderAt, size int64, key string, opt *Options) (*Array, string, error) {
	var head [4]byte
	m, err := r.ReadAt(head[:], 0)
	switch {
	case m < len(head) && err != nil && err != io.EOF:
		return nil, "", fmt.Errorf("npy: reading: %w", err)
	case m == len(head) && (string(head[:]) == "PK\x03\x04" || string(head[:]) == "PK\x05\x06"):
		return readNPZ(r, size, key, opt)
	}
	if key != "" {
		// Report a bad .npy as such before complaining about the key.
		if _, err := readHeader(io.NewSectionReader(r, 0, size)); err != nil {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("%w: array %q asked for, but the file is a single .npy array, not an .npz archive", ErrNotFound, key)
	}
	sr := io.NewSectionReader(r, 0, size)
	h, err := readHeader(sr)
	if err != nil {
		return nil, "", err
	}
	a, err := readData(sr, h, size-h.dataOff)
	return a, "", err
}

// readNPZ reads the array called key, or the default array, from the zip
// archive r of size bytes.
//
// An archive with two members of the same name (numpy would read the
// last) is refused as ambiguous, and so is a member flagged encrypted.
func readNPZ(r io.ReaderAt, size int64, key string, opt *Options) (*Array, string, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, "", fmt.Errorf("%w: not a valid .npz (zip) archive: %v", ErrFormat, err)
	}
	if err := opt.zip().Check(zr.File); err != nil {
		return nil, "", err
	}
	byKey := make(map[string]*zip.File, len(zr.File))
	var keys []string
	for _, f := range zr.File {
		k := strings.TrimSuffix(f.Name, ".npy")
		if _, dup := byKey[k]; dup {
			return nil, "", fmt.Errorf("%w: the .npz archive holds two arrays named %s (ambiguous: numpy would read the last)", ErrFormat, limits.Quote(k))
		}
		byKey[k] = f
		keys = append(keys, k)
	}
	var f *zip.File
	if key != "" {
		key = strings.TrimSuffix(key, ".npy")
		if f = byKey[key]; f == nil {
			return nil, "", fmt.Errorf("%w: no array %q in the .npz archive (it holds %s)", ErrNotFound, key, listKeys(keys))
		}
	} else {
		switch {
		case len(keys) == 1:
			key = keys[0]
		case byKey["x"] != nil:
			key = "x"
		case byKey["arr_0"] != nil:
			key = "arr_0"
		case len(keys) == 0:
			return nil, "", fmt.Errorf("%w: the .npz archive is empty", ErrNotFound)
		default:
			return nil, "", fmt.Errorf("%w: the .npz archive holds %d arrays and none is named x or arr_0; name one of %s",
				ErrNotFound, len(keys), listKeys(keys))
		}
		f = byKey[key]
	}
	zf, err := f.Open()
	if err != nil {
		return nil, key, fmt.Errorf("%w: cannot open .npz member %q: %v", ErrFormat, f.Name, err)
	}
	defer zf.Close()
	rc := &member{r: zf, name: f.Name}
	h, err := readHeader(rc)
	if err != nil {
		return nil, key, err
	}
	// A member holds at most its recorded size (archive/zip fails one
	// that inflates past it), which the limits have bounded, so the data
	// size can be checked up front.
	avail := int64(f.UncompressedSize64) - h.dataOff
	a, err := readData(rc, h, avail)
	if err != nil {
		return nil, key, err
	}
	// archive/zip verifies the checksum when the member reaches its end.
	var b [1]byte
	if _, err := rc.Read(b[:]); err != nil && err != io.EOF {
		return nil, key, err
	}
	return a, key, nil
}

// member reads an .npz member, reporting decompression and checksum
// failures as ErrFormat.
type member struct {
	r    io.Reader
	name string
}

func (m *member) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: corrupt .npz member %q: %v", ErrFormat, m.name, err)
	}
	return n, err
}

// listKeys formats at most ten array names for an error message.
func listKeys(keys []string) string {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	more := ""
	if len(keys) > 10 {
		more = fmt.Sprintf(" and %d more", len(keys)-10)
		keys = keys[:10]
	}
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(q, ", ") + more
}

// WriteFile writes a to the file name as Write does. It writes to a
// temporary file in the same folder, flushes it to disk and renames it to
// name, so that name is either left untouched or replaced by the complete
// file; on error no temporary file is left behind. The file is created
// with permissions 0644.
func WriteFile(name string, a *Array) error {
	err := atomicfile.Write(name, func(w io.Writer) error { return Write(w, a) })
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}
