package score

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/aekit/aekit/internal/atomicfile"
)

// Metadata keys under which a Threshold is stored (ONNX metadata_props,
// and the same names in the sidecar JSON).
const (
	// MetaMetric holds the metric's short name: mse, mae or bce.
	MetaMetric = "aekit.anomaly.metric"
	// MetaThreshold holds the threshold in the metric's units, a float32
	// in decimal (strconv 'g', shortest representation; JSON's number
	// syntax is read, not Go's hexadecimal floats or underscores).
	MetaThreshold = "aekit.anomaly.threshold"
	// MetaQuantile holds the quantile of the calibration scores the
	// threshold is (numpy's linear method), in [0, 1].
	MetaQuantile = "aekit.anomaly.quantile"
	// MetaRows holds the number of calibration rows.
	MetaRows = "aekit.anomaly.rows"
)

// SidecarSuffix is appended to a model's file name to name its sidecar
// threshold file: model.keras → model.keras.anomaly.json.
const SidecarSuffix = ".anomaly.json"

// maxSidecar bounds the size of a sidecar file read.
const maxSidecar = 1 << 16

// Threshold is an anomaly threshold learnt on normal rows: a row is
// anomalous when its Metric score is greater than Value.
type Threshold struct {
	// Metric is the score's metric.
	Metric Metric
	// Value is the threshold, in the metric's units.
	Value float32
	// Quantile is the quantile of the calibration scores Value is (0 when
	// unknown).
	Quantile float64
	// Rows is the number of calibration rows (0 when unknown).
	Rows int
}

// Calibrate returns the threshold that is the q-quantile (see Quantile)
// of scores of normal rows, rounded to float32.
func Calibrate(scores []float32, metric Metric, q float64) (*Threshold, error) {
	v, err := Quantile(scores, q)
	if err != nil {
		return nil, err
	}
	return &Threshold{Metric: metric, Value: float32(v), Quantile: q, Rows: len(scores)}, nil
}

// Anomalous reports whether score is above the threshold.
func (t *Threshold) Anomalous(score float32) bool { return score > t.Value }

// Metadata returns t as metadata entries (the Meta* keys).
func (t *Threshold) Metadata() map[string]string {
	m := map[string]string{
		MetaMetric:    MetricName(t.Metric),
		MetaThreshold: strconv.FormatFloat(float64(t.Value), 'g', -1, 32),
	}
	if t.Quantile != 0 {
		m[MetaQuantile] = strconv.FormatFloat(t.Quantile, 'g', -1, 64)
	}
	if t.Rows != 0 {
		m[MetaRows] = strconv.Itoa(t.Rows)
	}
	return m
}

// FromMetadata reads a Threshold from metadata entries (an ONNX file's
// metadata_props). It returns nil and no error when md holds no
// threshold, and an error wrapping ErrThreshold when the entries are
// malformed.
func FromMetadata(md map[string]string) (*Threshold, error) {
	vs, ok := md[MetaThreshold]
	if !ok {
		return nil, nil
	}
	metric, err := ParseMetric(md[MetaMetric])
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrThreshold, MetaMetric, err)
	}
	v, err := parseDecimal(vs, 32)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("%w: %s %q is not a finite float32 in decimal", ErrThreshold, MetaThreshold, vs)
	}
	t := &Threshold{Metric: metric, Value: float32(v)}
	if s, ok := md[MetaQuantile]; ok {
		q, err := parseDecimal(s, 64)
		if err != nil || !(q >= 0 && q <= 1) {
			return nil, fmt.Errorf("%w: %s %q is not in [0, 1]", ErrThreshold, MetaQuantile, s)
		}
		t.Quantile = q
	}
	if s, ok := md[MetaRows]; ok {
		r, err := strconv.Atoi(s)
		if err != nil || r < 0 {
			return nil, fmt.Errorf("%w: %s %q is not a row count", ErrThreshold, MetaRows, s)
		}
		t.Rows = r
	}
	return t, nil
}

// parseDecimal parses s as strconv.ParseFloat does, but only in the
// decimal syntax of JSON and of strconv.FormatFloat (an optional sign,
// digits with an optional fraction, an optional exponent): not Go's
// hexadecimal floats, digit-separating underscores, "Inf" or "NaN".
func parseDecimal(s string, bitSize int) (float64, error) {
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	ok := n > 0
	if ok && i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		ok = digits() > 0
	}
	if !ok || i != len(s) {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	return strconv.ParseFloat(s, bitSize)
}

// SidecarPath returns the sidecar threshold file of the model file
// model: model + SidecarSuffix.
func SidecarPath(model string) string { return model + SidecarSuffix }

// Write writes t to w as the sidecar JSON: one object with the Meta*
// keys, string values, sorted keys, a final newline.
func (t *Threshold) Write(w io.Writer) error {
	b, err := json.MarshalIndent(t.Metadata(), "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Read reads a Threshold written by Write (at most 64 KiB). A file that
// holds no threshold is an error wrapping ErrThreshold.
func Read(r io.Reader) (*Threshold, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSidecar+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSidecar {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrThreshold, maxSidecar)
	}
	var md map[string]string
	if err := json.Unmarshal(b, &md); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrThreshold, err)
	}
	t, err := FromMetadata(md)
	if err == nil && t == nil {
		err = fmt.Errorf("%w: no %s", ErrThreshold, MetaThreshold)
	}
	return t, err
}

// WriteSidecar writes t to the sidecar file of the model file model
// (SidecarPath), atomically.
func WriteSidecar(model string, t *Threshold) error {
	return atomicfile.Write(SidecarPath(model), t.Write)
}

// ReadSidecar reads the sidecar threshold of the model file model. It
// returns nil and no error when there is no sidecar file; errors name
// the file.
func ReadSidecar(model string) (*Threshold, error) {
	name := SidecarPath(model)
	// A FIFO or device would block the open or never end: only a
	// regular file (or a symlink to one) is read.
	fi, err := os.Stat(name)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", name, ErrThreshold)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// Stored returns the threshold stored with the model file model and
// where it was found: its sidecar file (SidecarPath) first, else the
// ONNX metadata_props entries metadata (pass nil for other formats),
// described as "MODEL metadata". It returns nil, "" and no error when
// neither holds one. model "-" (standard input) has no sidecar file.
// Errors name the file.
func Stored(model string, metadata map[string]string) (*Threshold, string, error) {
	if model != "-" {
		t, err := ReadSidecar(model)
		if err != nil || t != nil {
			return t, SidecarPath(model), err
		}
	}
	if metadata != nil {
		t, err := FromMetadata(metadata)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", model, err)
		}
		if t != nil {
			return t, model + " metadata", nil
		}
	}
	return nil, "", nil
}
