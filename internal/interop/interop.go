// Package interop finds the independent reference tools that aekit's
// interop tests run — the Python reference environment (TensorFlow with
// Keras 3, tf-keras, tf2onnx, onnx, onnxruntime, h5py, tritonclient) made by
// `make py-deps` — and decides what a missing one means: a skip with the
// reason in a developer's `go test`, a failure when AEKIT_INTEROP=1 (as
// `make test` and CI set it).
//
// It is imported by tests only.
package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Required reports whether a missing reference is a failure: AEKIT_INTEROP=1.
func Required() bool { return os.Getenv("AEKIT_INTEROP") == "1" }

// Need skips t (or fails it when Required) with what is missing when err is
// not nil.
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if Required() {
		t.Fatalf("%s is required with AEKIT_INTEROP=1 (run make deps): %v", what, err)
	}
	t.Skipf("%s not available (%v); run make deps, or set AEKIT_INTEROP=1 to make this a failure", what, err)
}

// Root returns the module's root folder: the nearest parent of the working
// directory holding go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("interop: no go.mod above the working directory")
		}
		dir = parent
	}
}

// VenvPython returns the interpreter of the reference environment:
// $AEKIT_VENV/bin/python, by default ROOT/.venv/bin/python.
func VenvPython() (string, error) {
	venv := os.Getenv("AEKIT_VENV")
	if venv == "" {
		root, err := Root()
		if err != nil {
			return "", err
		}
		venv = filepath.Join(root, ".venv")
	}
	py := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(py); err != nil {
		return "", fmt.Errorf("no reference environment at %s (make py-deps): %w", venv, err)
	}
	return py, nil
}

// Env is the environment for reference tools: the process's own plus
// settings that keep TensorFlow quiet, on the CPU, on the TensorFlow
// backend of Keras and deterministic (no oneDNN reordering of sums).
func Env() []string {
	return append(os.Environ(),
		"TF_CPP_MIN_LOG_LEVEL=3",
		"CUDA_VISIBLE_DEVICES=",
		"TF_ENABLE_ONEDNN_OPTS=0",
		"KERAS_BACKEND=tensorflow",
		"PYTHONHASHSEED=0",
		"PYTHONDONTWRITEBYTECODE=1",
	)
}

var imported sync.Map // "python\x00modules" → error

// Python returns the reference environment's interpreter after checking
// that it imports every module named; when it cannot, Need decides
// between skip and failure.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	py, err := VenvPython()
	if err == nil && len(modules) > 0 {
		key := py + "\x00" + strings.Join(modules, ",")
		if v, ok := imported.Load(key); ok {
			err, _ = v.(error)
		} else {
			cmd := exec.Command(py, "-c", "import "+strings.Join(modules, ", "))
			cmd.Env = Env()
			if out, e := cmd.CombinedOutput(); e != nil {
				err = fmt.Errorf("%v: %s", e, lastLine(out))
			}
			imported.Store(key, err)
		}
	}
	Need(t, "the Python reference environment with "+strings.Join(modules, ", "), err)
	return py
}

// Run runs a Python script file (or "-c", code) with args in the reference
// environment and returns its standard output; standard error is in the
// failure message.
func Run(t testing.TB, py string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(py, args...)
	cmd.Env = Env()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(py), strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
