package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/score"
	"github.com/aekit/aekit/train"
)

// Hostile sidecar thresholds (MODEL.anomaly.json): aekit score refuses
// each with exit 2 and one line naming the sidecar; a FIFO sidecar is
// refused, not opened (limitsHelp: "a named pipe or device is refused").
func TestAdvScoreHostileSidecar(t *testing.T) {
	dir := t.TempDir()
	const n, w = 6, 4
	x := make([]float32, n*w)
	for i := range x {
		x[i] = float32(i%5) / 5
	}
	xf := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(xf, &npy.Array{Shape: []int{n, w}, Data: x}); err != nil {
		t.Fatal(err)
	}
	m, err := train.Build(w, train.MustParseArch("2:relu|4:sigmoid"), "glorot_uniform", 5)
	if err != nil {
		t.Fatal(err)
	}
	mf := writeModel(t, dir, "m.keras", m)
	side := score.SidecarPath(mf)
	for _, c := range []struct{ name, json, want string }{
		{"NaN", `{"aekit.anomaly.metric":"mse","aekit.anomaly.threshold":"NaN"}`, "not a finite float32"},
		{"Inf", `{"aekit.anomaly.metric":"mse","aekit.anomaly.threshold":"Infinity"}`, "not a finite float32"},
		{"out of float32", `{"aekit.anomaly.metric":"mse","aekit.anomaly.threshold":"1e39"}`, "not a finite float32"},
		{"unknown metric", `{"aekit.anomaly.metric":"rmse","aekit.anomaly.threshold":"0.1"}`, "aekit.anomaly.metric"},
		{"quantile", `{"aekit.anomaly.metric":"mse","aekit.anomaly.threshold":"0.1","aekit.anomaly.quantile":"NaN"}`, "not in [0, 1]"},
		{"rows", `{"aekit.anomaly.metric":"mse","aekit.anomaly.threshold":"0.1","aekit.anomaly.rows":"-1"}`, "row count"},
		{"number value", `{"aekit.anomaly.metric":"mse","aekit.anomaly.threshold":0.1}`, "anomaly.json"},
		{"array", `[1,2]`, "anomaly.json"},
		{"huge", `{"x":"` + strings.Repeat("a", 1<<17) + `"}`, "larger than"},
	} {
		if err := os.WriteFile(side, []byte(c.json), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Run(c.name, func(t *testing.T) {
			runFail(t, []string{"m.keras.anomaly.json", c.want}, "score", mf, "-i", xf, "-o", filepath.Join(dir, "s.npy"))
		})
	}
	os.Remove(side)
	if err := syscall.Mkfifo(side, 0o644); err != nil {
		t.Skip("no FIFOs:", err)
	}
	done := make(chan string, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		code := run([]string{"score", mf, "-i", xf, "-o", filepath.Join(dir, "s.npy")}, &stdout, &stderr)
		done <- strings.TrimSpace(stderr.String()) + " exit " + string(rune('0'+code))
	}()
	select {
	case got := <-done:
		if !strings.Contains(got, "anomaly.json") || !strings.Contains(got, "not a regular file") || !strings.HasSuffix(got, "exit 2") {
			t.Errorf("FIFO sidecar: %q, want exit 2 naming the sidecar", got)
		}
	case <-time.After(10 * time.Second):
		if f, err := os.OpenFile(side, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		<-done
		t.Error("aekit score with a FIFO sidecar hung (opened it)")
	}
}
