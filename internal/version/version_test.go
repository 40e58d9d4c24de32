package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	for _, c := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "v0.4.0"}}, "v0.4.0"},
		{"dependency", debug.BuildInfo{Main: debug.Module{Path: "example.com/svc", Version: "(devel)"},
			Deps: []*debug.Module{{Path: Module, Version: "v0.3.1"}}}, "v0.3.1"},
		{"checkout", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1359b3e4a1f2c3d4e5f60718293a4b5c6d7e8f90"}}}, "devel+1359b3e4a1f2"},
		{"dirty", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}}, "devel+abc-dirty"},
		{"nothing", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "(devel)"}}, "devel"},
	} {
		if got := fromBuildInfo(&c.bi); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestStringNotEmpty(t *testing.T) {
	if String() == "" || Go() == "" {
		t.Fatalf("String() = %q, Go() = %q", String(), Go())
	}
}
