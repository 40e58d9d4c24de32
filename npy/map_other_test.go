//go:build !unix

package npy

const hasMmap = false
