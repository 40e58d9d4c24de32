//go:build !cgo

package h5_test

import "testing"

// eflOracle needs libhdf5 (cgo) to show that the watch sees opens.
func eflOracle(t *testing.T, b []byte, opens func() int) {
	t.Log("control skipped: libhdf5 (cgo) is needed to show the watch sees opens")
}
