//go:build !unix

package inputfile

import (
	"fmt"
	"os"
)

// openNonblock checks name before opening it, where the system has no
// non-blocking open.
func openNonblock(name string) (*os.File, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, Kind(st.Mode()))
	}
	return os.Open(name)
}
