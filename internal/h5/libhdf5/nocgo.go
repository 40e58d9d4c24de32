//go:build !cgo

package libhdf5

// File is an HDF5 file held in memory. Without cgo it cannot be opened.
type File struct{}

// StringType says how SetAttrString and SetAttrStrings store strings.
type StringType struct{ VarLen, UTF8 bool }

// Open returns ErrNoCgo.
func Open(image []byte) (*File, error) { return nil, ErrNoCgo }

// Create returns ErrNoCgo.
func Create() (*File, error) { return nil, ErrNoCgo }

// Close does nothing.
func (f *File) Close() error { return nil }

// Image returns ErrNoCgo.
func (f *File) Image() ([]byte, error) { return nil, ErrNoCgo }

// Kind returns None.
func (f *File) Kind(path string) Kind { return None }

// Children returns ErrNoCgo.
func (f *File) Children(path string) ([]string, error) { return nil, ErrNoCgo }

// AttrNames returns ErrNoCgo.
func (f *File) AttrNames(path string) ([]string, error) { return nil, ErrNoCgo }

// HasAttr returns false.
func (f *File) HasAttr(path, name string) bool { return false }

// Attr returns ErrNoCgo.
func (f *File) Attr(path, name string) (AttrInfo, error) { return AttrInfo{}, ErrNoCgo }

// AttrStrings returns ErrNoCgo.
func (f *File) AttrStrings(path, name string) ([]string, error) { return nil, ErrNoCgo }

// AttrString returns ErrNoCgo.
func (f *File) AttrString(path, name string) (string, error) { return "", ErrNoCgo }

// Dataset returns ErrNoCgo.
func (f *File) Dataset(path string) (Class, int, []int, error) { return Other, 0, nil, ErrNoCgo }

// ReadFloat32 returns ErrNoCgo.
func (f *File) ReadFloat32(path string) ([]float32, []int, error) { return nil, nil, ErrNoCgo }

// CreateGroup returns ErrNoCgo.
func (f *File) CreateGroup(path string) error { return ErrNoCgo }

// SetAttrString returns ErrNoCgo.
func (f *File) SetAttrString(path, name, value string, t StringType) error { return ErrNoCgo }

// SetAttrStrings returns ErrNoCgo.
func (f *File) SetAttrStrings(path, name string, values []string, t StringType) error {
	return ErrNoCgo
}

// SetAttrEmpty returns ErrNoCgo.
func (f *File) SetAttrEmpty(path, name string) error { return ErrNoCgo }

// WriteFloat32 returns ErrNoCgo.
func (f *File) WriteFloat32(path string, data []float32, shape []int) error { return ErrNoCgo }
