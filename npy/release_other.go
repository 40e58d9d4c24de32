//go:build !linux

package npy

// release does nothing here: only Linux builds drop mapped pages.
func release(mem []byte) {}
