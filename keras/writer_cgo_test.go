//go:build cgo

package keras

import "testing"

// needWriter does nothing: with cgo, libhdf5 writes .h5 and .keras files.
func needWriter(t *testing.T) {}
