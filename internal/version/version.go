// Package version tells which build of aekit is running, for the
// `aekit version` command and for the producer fields of the files aekit
// writes (ONNX producer_version, Keras metadata).
//
// A release sets the version at link time:
//
//	go build -ldflags "-X github.com/aekit/aekit/internal/version.version=v0.4.0" ./cmd/aekit
//
// (make build does this with `git describe`). Otherwise the version comes
// from the binary's build information: the module version when aekit was
// built as a dependency or with `go install …@version`, else "devel" with
// the VCS revision the go command stamped, such as "devel+1359b3e4a1f2"
// ("-dirty" when the work tree had changes).
package version

import (
	"runtime/debug"
	"strings"
)

// version is set with -ldflags -X; empty means "from the build information".
var version string

// Module is the aekit module path.
const Module = "github.com/aekit/aekit"

// String returns aekit's version: the -ldflags value, the module version,
// or "devel" followed by the VCS revision (12 hex digits) when known.
func String() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) string {
	v := ""
	if bi.Main.Path == Module {
		v = bi.Main.Version
	} else {
		for _, d := range bi.Deps {
			if d.Path == Module {
				v = d.Version
			}
		}
	}
	if v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel+" + rev[:min(12, len(rev))] + dirty
}

// Go returns the Go toolchain that built the binary, such as "go1.26.8".
func Go() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown"
}

// Short returns the version without a "v" prefix, as Keras writes its own
// version ("3.10.0"); "devel…" stays as it is.
func Short() string { return strings.TrimPrefix(String(), "v") }
