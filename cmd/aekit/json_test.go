package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/npy"
)

// TestTrainJSON: train --json prints no epoch log and one JSON summary
// whose history has an entry per epoch; --json with --verbose 1 is a
// usage error.
func TestTrainJSON(t *testing.T) {
	dir := t.TempDir()
	x := make([]float32, 64*6)
	for i := range x {
		x[i] = float32(i%5) / 5
	}
	data := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(data, &npy.Array{Shape: []int{64, 6}, Data: x}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.keras")
	stdout := runOK(t, "train", "--data", data, "--layers", "3:relu|6:sigmoid", "--epochs", "3",
		"--validation-split", "0.25", "--json", "-o", out)
	if strings.Count(stdout, "\n") != 1 {
		t.Fatalf("stdout is not one line: %q", stdout)
	}
	var s trainSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	if s.Output != out || len(s.Epochs) != 3 || s.Epochs[2] != 3 || len(s.Loss) != 3 || len(s.ValLoss) != 3 || len(s.Seconds) != 3 || s.Checkpoint != "" {
		t.Errorf("summary %+v", s)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
	runFail(t, []string{"--json", "--verbose 1"}, "train", "--data", data, "--layers", "3:relu|6:sigmoid", "--json", "--verbose", "1", "-o", out)
}

// TestBenchJSONLines: bench --json turns each result line into a JSON
// object with numbers as numbers and passes other lines through.
func TestBenchJSONLines(t *testing.T) {
	var b bytes.Buffer
	j := &jsonLines{w: &b}
	j.Write([]byte("bench infer model=seed threads=1 batch=256 samples_per_s=2696128 latency_us=94.95\nbench peak isa=avx5"))
	j.Write([]byte("12 gflops=241.3\nnot a result\nbench train model=deep samples_per_s=+Inf"))
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || lines[2] != "not a result" {
		t.Fatalf("lines %q", lines)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["bench"] != "infer" || m["model"] != "seed" || m["batch"] != 256.0 || m["latency_us"] != 94.95 {
		t.Errorf("%v", m)
	}
	if err := json.Unmarshal([]byte(lines[1]), &m); err != nil || m["isa"] != "avx512" || m["gflops"] != 241.3 {
		t.Errorf("%q: %v %v", lines[1], m, err)
	}
	if err := json.Unmarshal([]byte(lines[3]), &m); err != nil || m["samples_per_s"] != "+Inf" {
		t.Errorf("%q: %v %v", lines[3], m, err)
	}
}
