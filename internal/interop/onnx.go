package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Script returns the path of a reference script in the module's
// tools/python folder (ort_run.py, onnx_check.py, tf2onnx_convert.py).
func Script(t testing.TB, name string) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "tools", "python", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// ORTJob is one model run of tools/python/ort_run.py (and of
// tools/node/ort_run.mjs, which reads the same jobs): Model run on the
// float32 .npy Input, outputs written to the .npy Output.
type ORTJob struct {
	Model  string `json:"model"`
	Input  string `json:"input"`
	Output string `json:"output"`
	// Name, when set, names the model output to write (default: the
	// first); a bool output is written as float32 0/1. Only ort_run.py
	// reads it.
	Name string `json:"name,omitempty"`
}

// ORTResults parses the JSON lines the ort_run scripts print: for each
// job's Output path, "" when it ran or the error message.
func ORTResults(out []byte) map[string]string {
	results := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct{ Output, Error string }
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Output != "" {
			results[r.Output] = r.Error
		}
	}
	return results
}

// ORT runs jobs in the reference environment's ONNX Runtime (Python,
// CPU, one thread) in one process and returns each job's result by Output
// path ("" when it ran, else the error); a job missing from the map did
// not run. dir holds the job list.
func ORT(t testing.TB, dir string, jobs []ORTJob) map[string]string {
	t.Helper()
	py := Python(t, "onnxruntime", "numpy")
	jf := filepath.Join(dir, "ort_jobs.json")
	b, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := Command(py, Script(t, "ort_run.py"), "--jobs", jf)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	results := ORTResults(out)
	if err != nil && len(results) == 0 {
		t.Fatalf("ort_run.py: %v\n%s", err, stderr.String())
	}
	return results
}

// CheckONNX runs onnx.checker.check_model(model, full_check=True) of the
// reference environment's onnx on every file in one process and returns
// one line per failing file ("FAIL file message"); none means all passed.
func CheckONNX(t testing.TB, files []string) []string {
	t.Helper()
	if len(files) == 0 {
		return nil
	}
	py := Python(t, "onnx")
	cmd := Command(py, append([]string{Script(t, "onnx_check.py")}, files...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, _ := cmd.Output()
	var fails []string
	checked := false
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "FAIL "):
			fails = append(fails, l)
		case l == fmt.Sprintf("checked %d", len(files)):
			checked = true
		}
	}
	if !checked {
		t.Fatalf("onnx_check.py did not finish: %s\n%s", out, stderr.String())
	}
	return fails
}

// Command is exec.Command with the reference environment (Env), for
// callers that read a script's output even when it fails.
func Command(py string, args ...string) *exec.Cmd {
	cmd := exec.Command(py, args...)
	cmd.Env = Env()
	return cmd
}

// PythonFound is Python for modules that are slow to import (TensorFlow
// takes seconds): it checks that each is installed (importlib's
// find_spec) without importing it, and returns the interpreter; when one
// is missing, Need decides between skip and failure.
func PythonFound(t testing.TB, modules ...string) string {
	t.Helper()
	py := Python(t)
	const find = "import importlib.util as u, sys\n" +
		"m = [n for n in sys.argv[1:] if u.find_spec(n) is None]\n" +
		"sys.exit('not installed: ' + ' '.join(m) if m else 0)"
	var err error
	if out, e := Command(py, append([]string{"-c", find}, modules...)...).CombinedOutput(); e != nil {
		err = fmt.Errorf("%v: %s", e, strings.TrimSpace(string(out)))
	}
	Need(t, "the Python reference environment with "+strings.Join(modules, ", "), err)
	return py
}
