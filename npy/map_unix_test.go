//go:build unix

package npy

const hasMmap = true
