//go:build !cgo

package keras

import "testing"

// needWriter skips a test that writes .h5 or .keras files: writing HDF5
// goes through libhdf5, which needs cgo.
func needWriter(t *testing.T) {
	t.Helper()
	t.Skip("writes .h5/.keras through libhdf5, which needs cgo (built with CGO_ENABLED=0)")
}
