package score

import (
	"bytes"
	"testing"
)

// FuzzRead feeds arbitrary bytes to the sidecar decoder: it must return a
// threshold or an error, never panic, and what it returns must survive
// Write and Read unchanged.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	(&Threshold{Metric: BCE, Value: 0.25, Quantile: 0.99, Rows: 10}).Write(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"aekit.anomaly.threshold": "1e-3", "aekit.anomaly.metric": "mae"}`))
	f.Add([]byte(`{"aekit.anomaly.threshold": 1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		th, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := th.Write(&out); err != nil {
			t.Fatal(err)
		}
		back, err := Read(&out)
		if err != nil || *back != *th {
			t.Fatalf("round trip of %+v: %+v %v", th, back, err)
		}
	})
}
