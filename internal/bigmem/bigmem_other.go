//go:build !linux

package bigmem

// advise does nothing: huge pages are asked for on Linux only.
func advise(s []float32) {}
