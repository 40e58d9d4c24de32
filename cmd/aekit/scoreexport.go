package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/score"
)

// scoreFlagHelp is the help of the --score flag of convert and train.
const scoreFlagHelp = "for .onnx outputs: add a per-row reconstruction_error output (float32 [batch]) computing `METRIC` (mse, mae or bce, as aekit score does) and, when a threshold for it is stored with the input model, is_anomaly (bool [batch], error > threshold)"

// checkScoreFlag checks --score before any work: a known metric and an
// .onnx output.
func checkScoreFlag(metric, out string) error {
	return checkScoreFormat(metric, out, "")
}

// checkScoreFormat is checkScoreFlag for an output "-" of format.
func checkScoreFormat(metric, out, format string) error {
	if metric == "" {
		return nil
	}
	if _, err := score.ParseMetric(metric); err != nil {
		return fmt.Errorf("--score: %w", err)
	}
	name := out
	if out == "-" {
		name, out = "-."+format, "standard output as "+format
	}
	if !strings.EqualFold(filepath.Ext(name), ".onnx") {
		return fmt.Errorf("--score applies to .onnx outputs, not %s (a Keras model's scores come from aekit score)", out)
	}
	return nil
}

// saveScored writes m to path as saveModelOpset does and stores the
// anomaly threshold th (may be nil) with it: in an .onnx output's
// metadata_props (aekit.anomaly.*), with a reconstruction_error output
// computing metric when metric is not empty and an is_anomaly output when
// th is for that metric; beside a Keras output, in its sidecar file
// (score.SidecarPath). It returns a note for the user, or "".
func saveScored(path string, m *runtime.Model, opset int, metric string, th *score.Threshold) (string, error) {
	return saveScoredTo(path, "", nil, m, opset, metric, th)
}

// saveScoredTo is saveScored with standard output: path "-" writes the
// model to stdout in format ("onnx", "keras" or "h5"); a Keras model's
// threshold then has no sidecar file to go to, which the note says.
func saveScoredTo(path, format string, stdout io.Writer, m *runtime.Model, opset int, metric string, th *score.Threshold) (string, error) {
	name := path // what chooses the writer
	if path == "-" {
		name = "-." + format
	}
	if !strings.EqualFold(filepath.Ext(name), ".onnx") {
		if path == "-" {
			b, err := modelfile.Marshal(name, m, &modelfile.SaveOptions{Opset: opset})
			if err != nil {
				return "", flagHint("standard output", err)
			}
			if _, err := stdout.Write(b); err != nil {
				return "", err
			}
			if th != nil {
				return fmt.Sprintf("threshold %g (%s) not stored: standard output has no sidecar file", th.Value, score.MetricName(th.Metric)), nil
			}
			return "", nil
		}
		if err := saveModelOpset(path, m, opset); err != nil {
			return "", err
		}
		if th == nil {
			return "", nil
		}
		if err := score.WriteSidecar(path, th); err != nil {
			return "", err
		}
		return fmt.Sprintf("threshold %g (%s) stored in %s", th.Value, score.MetricName(th.Metric), score.SidecarPath(path)), nil
	}
	opt := &onnx.ExportOptions{Opset: opset}
	var note string
	if th != nil {
		opt.Metadata = th.Metadata()
		note = fmt.Sprintf("threshold %g (%s) stored in the metadata", th.Value, score.MetricName(th.Metric))
	}
	if metric != "" {
		mt, err := score.ParseMetric(metric)
		if err != nil {
			return "", fmt.Errorf("--score: %w", err)
		}
		name := score.MetricName(mt)
		opt.Score = &onnx.ScoreOutput{Metric: name}
		switch {
		case th != nil && th.Metric == mt:
			opt.Score.Threshold = &th.Value
			note = fmt.Sprintf("outputs %s (%s) and %s (> %g)", onnx.ReconstructionErrorName, name, onnx.IsAnomalyName, th.Value)
		case th != nil:
			note = fmt.Sprintf("output %s (%s); no %s: the stored threshold is for %s", onnx.ReconstructionErrorName, name, onnx.IsAnomalyName, score.MetricName(th.Metric))
			opt.Metadata = nil // the stored threshold does not describe this output
		default:
			note = fmt.Sprintf("output %s (%s); no %s: no threshold stored (aekit score --calibrate ... --save-threshold)", onnx.ReconstructionErrorName, name, onnx.IsAnomalyName)
		}
		if opt.Metadata == nil {
			opt.Metadata = map[string]string{}
		}
		opt.Metadata[score.MetaMetric] = name
	}
	if path == "-" {
		b, err := onnx.Marshal(m, opt)
		if err != nil {
			return "", err
		}
		_, err = stdout.Write(b)
		return note, err
	}
	return note, onnx.WriteFile(path, m, opt)
}

// anomalyMeta describes the anomaly metadata of an ONNX file for inspect.
func anomalyMeta(md map[string]string) string {
	t, err := score.FromMetadata(md)
	switch {
	case err != nil:
		return err.Error()
	case t == nil:
		return "metric " + md[score.MetaMetric] + ", no threshold"
	}
	s := fmt.Sprintf("metric %s, threshold %g", score.MetricName(t.Metric), t.Value)
	if t.Quantile != 0 {
		s += fmt.Sprintf(", the %g quantile of %d normal rows", t.Quantile, t.Rows)
	}
	return s
}
