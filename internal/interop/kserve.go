package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// KServePython returns the interpreter of the serve benchmark's second
// venv, KServe's Python model server with ONNX Runtime (make kserve-deps:
// .venv-kserve at the module root, or AEKIT_KSERVE_VENV), which also has
// PyYAML; when it is missing, Need decides between skip and failure.
func KServePython(t testing.TB) string {
	t.Helper()
	py, err := kservePython()
	Need(t, "the KServe venv (make kserve-deps)", err)
	return py
}

func kservePython() (string, error) {
	venv := os.Getenv("AEKIT_KSERVE_VENV")
	if venv == "" {
		root, err := Root()
		if err != nil {
			return "", err
		}
		venv = filepath.Join(root, ".venv-kserve")
	}
	py := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(py); err != nil {
		return "", fmt.Errorf("no KServe venv at %s (make kserve-deps): %w", venv, err)
	}
	return py, nil
}
