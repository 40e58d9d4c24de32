//go:build !linux

package train

// releasePages does nothing here: only Linux builds release the pages of
// mapped data (Config.Mapped).
func releasePages(a []float32) {}

// checkMapped accepts any data here, as releasePages does nothing, and
// finds no file to read rows from.
func checkMapped(a []float32) (*rowFile, error) { return nil, nil }

// resident counts the bytes read since the last release: the estimate
// of the resident data where it cannot be measured.
type resident struct{ read int }

func (r *resident) open()  {}
func (r *resident) close() {}
func (r *resident) reset() { r.read = 0 }

func (r *resident) bytes(n int) int {
	r.read += n
	return r.read
}

// mappedPath finds no file here.
func mappedPath(addr uintptr) string { return "" }
