package keras

import (
	"archive/zip"

	"github.com/aekit/aekit/internal/limits"
)

// Default resource limits (see the Max fields of Options). Each is far
// above what a real autoencoder needs: a 20-layer model's config.json
// takes about 20 KB, nests 15 deep and holds well under a million
// parameters.
const (
	DefaultMaxConfigBytes  = 16 << 20 // 16 MiB of architecture JSON
	DefaultMaxConfigDepth  = 100      // JSON objects and arrays nested 100 deep
	DefaultMaxLayers       = 10000    // layers, nested models' included
	DefaultMaxParams       = 1 << 28  // 268,435,456 parameters: 1 GiB of float32
	DefaultMaxMemberBytes  = 1 << 30  // 1 GiB per .keras zip member, decompressed
	DefaultMaxArchiveBytes = 2 << 30  // 2 GiB for all members of a .keras zip
	DefaultMaxMemberRatio  = 200      // decompressed bytes per compressed byte
)

// limit returns v, or def when v ≤ 0.
func limit[T int | int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (opt *Options) tooLarge(what string, got, lim int64, unit, field string) error {
	return &limits.Error{What: what, Got: got, Limit: lim, Unit: unit, Field: field, Option: "keras.Options." + field, Err: ErrTooLarge}
}

// configLimit is the limit on architecture JSON, for inputfile.ReadFile.
func (opt *Options) configLimit() *limits.Error {
	return &limits.Error{Limit: limit(opt.MaxConfigBytes, DefaultMaxConfigBytes), Field: "MaxConfigBytes",
		Option: "keras.Options.MaxConfigBytes", Err: ErrTooLarge}
}

// zipLimits are the checks readZip makes on a .keras archive.
func (opt *Options) zipLimits() limits.Zip {
	return limits.Zip{MaxMember: limit(opt.MaxMemberBytes, DefaultMaxMemberBytes),
		MaxTotal: limit(opt.MaxArchiveBytes, DefaultMaxArchiveBytes),
		MaxRatio: limit(opt.MaxMemberRatio, DefaultMaxMemberRatio),
		Option:   "keras.Options", Err: ErrTooLarge, FormatErr: ErrFormat}
}

// checkJSON checks the size and the nesting depth of the JSON document b
// (what names it in errors) before it is decoded.
func (opt *Options) checkJSON(what string, b []byte) error {
	if max := limit(opt.MaxConfigBytes, DefaultMaxConfigBytes); int64(len(b)) > max {
		return opt.tooLarge(what, int64(len(b)), max, "bytes", "MaxConfigBytes")
	}
	max := limit(opt.MaxConfigDepth, DefaultMaxConfigDepth)
	if d := jsonDepth(b, max); d > max {
		return opt.tooLarge(what, int64(d), int64(max), "levels of nesting (at least)", "MaxConfigDepth")
	}
	return nil
}

// checkMember checks a .keras member holding JSON by its declared size,
// before it is decompressed.
func (opt *Options) checkMember(f *zip.File) error {
	if max := limit(opt.MaxConfigBytes, DefaultMaxConfigBytes); f.UncompressedSize64 > uint64(max) {
		return opt.tooLarge(f.Name+" (decompressed)", int64(min(f.UncompressedSize64, 1<<62)), max, "bytes", "MaxConfigBytes")
	}
	return nil
}

// jsonDepth returns the largest nesting depth of objects and arrays in b,
// stopping as soon as it passes stop. Strings are skipped, escapes
// included; malformed JSON is left to the decoder.
func jsonDepth(b []byte, stop int) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
			if depth > deepest {
				if deepest = depth; deepest > stop {
					return deepest
				}
			}
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// countLayers returns the number of entries of every "layers" list in a
// decoded config, nested models' included, stopping past stop.
func countLayers(v any, stop int) int {
	n := 0
	var walk func(v any)
	walk = func(v any) {
		if n > stop {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if l, ok := e.([]any); ok && k == "layers" {
					n += len(l)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return n
}

// checkLayers checks the number of layers of a decoded config.
func (opt *Options) checkLayers(top *topConfig) error {
	max := limit(opt.MaxLayers, DefaultMaxLayers)
	if n := countLayers(top.raw, max); n > max {
		return opt.tooLarge("the model config", int64(n), int64(max), "layers (at least)", "MaxLayers")
	}
	return nil
}
