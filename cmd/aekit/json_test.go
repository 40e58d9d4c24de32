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

// TestScoreJSON: score --json reports, as one JSON object, what the text
// report says: rows, metric, threshold and anomalous rows, and with
// --labels the ROC AUC and confusion counts.
func TestScoreJSON(t *testing.T) {
	dir := t.TempDir()
	data, model := smallModel(t, dir)
	y := make([]float32, 10)
	for i := range y {
		y[i] = float32(i % 2)
	}
	labels := filepath.Join(dir, "y.npy")
	if err := npy.WriteFile(labels, &npy.Array{Shape: []int{10}, Data: y}); err != nil {
		t.Fatal(err)
	}
	args := []string{"score", model, "-i", data, "--threshold", "0.05", "--labels", labels}
	text := runOK(t, args...)
	var r scoreReport
	if err := json.Unmarshal([]byte(runOK(t, append(args, "--json")...)), &r); err != nil {
		t.Fatal(err)
	}
	if r.Rows != 10 || r.Metric != "mse" || r.Threshold == nil || r.Threshold.Value != 0.05 || r.Labels == nil || r.Labels.Anomalies != 5 || r.AtThreshold == nil {
		t.Fatalf("report %+v", r)
	}
	var b bytes.Buffer
	r.print(&b)
	if b.String() != text {
		t.Errorf("the JSON report printed as text:\n%s\nthe text report:\n%s", b.String(), text)
	}
}

// TestSelectJSON: select --json says what it wrote.
func TestSelectJSON(t *testing.T) {
	dir := t.TempDir()
	data, _ := smallModel(t, dir)
	y := make([]float32, 10)
	for i := range y {
		y[i] = float32(i % 3)
	}
	labels, out := filepath.Join(dir, "y.npy"), filepath.Join(dir, "sel.npy")
	if err := npy.WriteFile(labels, &npy.Array{Shape: []int{10}, Data: y}); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Output     string
		Kept, Rows int
	}
	if err := json.Unmarshal([]byte(runOK(t, "select", "-i", data, "--labels", labels, "--classes", "0,2", "-o", out, "--json")), &r); err != nil {
		t.Fatal(err)
	}
	if r.Output != out || r.Kept != 7 || r.Rows != 10 {
		t.Errorf("%+v", r)
	}
}
