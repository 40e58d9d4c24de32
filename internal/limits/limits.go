// Package limits holds what the readers of untrusted files share about
// resource limits: the error that names a limit and how to raise it, and
// the checks of a zip archive's declared sizes that run before anything
// is decompressed.
//
// Each limit is a field of its package's options (keras.Options,
// npy.Options, onnx.ReadOptions), with a default far above any real
// autoencoder; the aekit command sets them from AEKIT_LIMITS.
package limits

import (
	"archive/zip"
	"fmt"
)

// Error reports input beyond a resource limit. It unwraps to Err, the
// sentinel error of the package that checked it.
type Error struct {
	// What is the thing measured: "config.json", "layers", ...
	What string
	// Got is the size found (in Unit), Limit the largest accepted.
	Got, Limit int64
	// Unit is the unit of Got and Limit: "bytes", "layers", ...
	Unit string
	// Field is the option field that sets the limit ("MaxLayers"),
	// Option its qualified name ("keras.Options.MaxLayers").
	Field, Option string
	// Err is the package's sentinel error.
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v: %s has %d %s, above the limit of %d (%s)", e.Err, e.What, e.Got, e.Unit, e.Limit, e.Option)
}

// Unwrap returns the package's sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// Zip holds the limits on a zip archive's decompressed sizes. A zero
// field takes the default given for it.
type Zip struct {
	// MaxMember bounds each member's decompressed size, in bytes.
	MaxMember int64
	// MaxTotal bounds the sum of all members' decompressed sizes.
	MaxTotal int64
	// MaxRatio bounds a member's decompressed size relative to its
	// compressed size, for members larger than RatioFloor bytes.
	MaxRatio int64
	// Option is the options type naming the fields in errors
	// ("keras.Options"); Err is the package's sentinel error for limits,
	// FormatErr the one for a malformed archive (an encrypted member).
	Option    string
	Err       error
	FormatErr error
}

// RatioFloor is the decompressed size up to which a zip member is not
// held to MaxRatio: 8 MiB, harmless whatever it was packed from.
const RatioFloor = 8 << 20

// Check checks the sizes the archive's directory declares for every
// member against z, and refuses members flagged encrypted (their data is
// not what the bytes say). archive/zip fails a member that inflates past
// its declared size, so checking the declaration bounds the memory and
// time that reading the members takes.
func (z Zip) Check(files []*zip.File) error {
	var total uint64
	for _, f := range files {
		if f.Flags&0x1 != 0 {
			return fmt.Errorf("%w: member %s is encrypted", z.FormatErr, quote(f.Name))
		}
		size := f.UncompressedSize64
		if size > uint64(z.MaxMember) {
			return z.err("member "+quote(f.Name), size, z.MaxMember, "bytes decompressed", "MaxMemberBytes")
		}
		if size > RatioFloor && size/max(f.CompressedSize64, 1) > uint64(z.MaxRatio) {
			return z.err("member "+quote(f.Name), size/max(f.CompressedSize64, 1), z.MaxRatio, "bytes decompressed per compressed byte", "MaxMemberRatio")
		}
		total += size
		if total > uint64(z.MaxTotal) {
			return z.err("the archive", total, z.MaxTotal, "bytes decompressed (at least)", "MaxArchiveBytes")
		}
	}
	return nil
}

func (z Zip) err(what string, got uint64, limit int64, unit, field string) error {
	return &Error{What: what, Got: int64(min(got, 1<<63-1)), Limit: limit, Unit: unit, Field: field,
		Option: z.Option + "." + field, Err: z.Err}
}

// Quote quotes s for an error message, cutting it to 40 bytes: names
// and tokens from a hostile file can be megabytes long.
func Quote(s string) string {
	return quote(s)
}

func quote(s string) string {
	return fmt.Sprintf("%q", Truncate(s, 40))
}

// Truncate cuts s to at most n bytes (and a rune boundary), marking the
// cut with "…" and the number of bytes left out.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return fmt.Sprintf("%s…(%d more bytes)", s[:cut], len(s)-cut)
}
