package deploy

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/train"
)

// yamlToJSON parses YAML files with PyYAML (from the KServe venv) and
// returns each file's single document as JSON.
func yamlToJSON(t *testing.T, files ...string) [][]byte {
	t.Helper()
	py := interop.KServePython(t)
	const script = `import json, sys, yaml
for f in sys.argv[1:]:
    docs = list(yaml.safe_load_all(open(f)))
    assert len(docs) == 1, f"{f}: {len(docs)} documents"
    print(json.dumps(docs[0]))`
	out := interop.Run(t, py, append([]string{"-c", script}, files...)...)
	var docs [][]byte
	for _, line := range splitLines(out) {
		docs = append(docs, line)
	}
	if len(docs) != len(files) {
		t.Fatalf("%d documents from %d files", len(docs), len(files))
	}
	return docs
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := slices.Index(b, '\n')
		if i < 0 {
			i = len(b)
		}
		if i > 0 {
			out = append(out, b[:i])
		}
		b = b[min(i+1, len(b)):]
	}
	return out
}

type container struct {
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Args  []string `json:"args"`
	Ports []struct {
		ContainerPort int `json:"containerPort"`
	} `json:"ports"`
	ReadinessProbe, LivenessProbe struct {
		HTTPGet struct {
			Path string `json:"path"`
			Port int    `json:"port"`
		} `json:"httpGet"`
	}
}

// object is what every Kubernetes manifest starts with.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

type servingRuntime struct {
	object
	Spec struct {
		SupportedModelFormats []struct {
			Name       string `json:"name"`
			AutoSelect bool   `json:"autoSelect"`
		} `json:"supportedModelFormats"`
		ProtocolVersions []string    `json:"protocolVersions"`
		Containers       []container `json:"containers"`
	} `json:"spec"`
}

type inferenceService struct {
	object
	Spec struct {
		Predictor struct {
			MinReplicas int    `json:"minReplicas"`
			MaxReplicas int    `json:"maxReplicas"`
			ScaleMetric string `json:"scaleMetric"`
			ScaleTarget int    `json:"scaleTarget"`
			Model       struct {
				ModelFormat struct {
					Name string `json:"name"`
				} `json:"modelFormat"`
				Runtime         string `json:"runtime"`
				ProtocolVersion string `json:"protocolVersion"`
				StorageURI      string `json:"storageUri"`
			} `json:"model"`
		} `json:"predictor"`
	} `json:"spec"`
}

// TestKServeManifests: the ServingRuntime and InferenceService parse, are
// the KServe kinds, and agree with each other and with aekit serve's
// protocol (v2 health probes, the repository KServe's storage initializer
// fills).
func TestKServeManifests(t *testing.T) {
	docs := yamlToJSON(t, filepath.Join("kserve", "servingruntime.yaml"), filepath.Join("kserve", "inferenceservice.yaml"))
	var sr servingRuntime
	var is inferenceService
	if err := json.Unmarshal(docs[0], &sr); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(docs[1], &is); err != nil {
		t.Fatal(err)
	}
	if sr.APIVersion != "serving.kserve.io/v1alpha1" || sr.Kind != "ServingRuntime" {
		t.Errorf("servingruntime.yaml is %s %s", sr.APIVersion, sr.Kind)
	}
	if is.APIVersion != "serving.kserve.io/v1beta1" || is.Kind != "InferenceService" {
		t.Errorf("inferenceservice.yaml is %s %s", is.APIVersion, is.Kind)
	}
	if !slices.Contains(sr.Spec.ProtocolVersions, "v2") {
		t.Errorf("runtime protocol versions %v lack v2", sr.Spec.ProtocolVersions)
	}
	if len(sr.Spec.Containers) != 1 {
		t.Fatalf("runtime has %d containers, want 1", len(sr.Spec.Containers))
	}
	c := sr.Spec.Containers[0]
	if c.Name != "kserve-container" {
		t.Errorf("container %q: KServe expects kserve-container", c.Name)
	}
	for _, want := range []string{"serve", "--http=0.0.0.0:8080", "--grpc=0.0.0.0:8081", "--model-repository=/mnt/models"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("container args %v lack %q", c.Args, want)
		}
	}
	if len(c.Ports) == 0 || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("container ports %+v, want 8080 first", c.Ports)
	}
	if c.ReadinessProbe.HTTPGet.Path != "/v2/health/ready" || c.LivenessProbe.HTTPGet.Path != "/v2/health/live" {
		t.Errorf("probes %q %q, want the v2 health endpoints", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	m := is.Spec.Predictor.Model
	if m.Runtime != sr.Metadata.Name {
		t.Errorf("InferenceService runtime %q, ServingRuntime %q", m.Runtime, sr.Metadata.Name)
	}
	if m.ProtocolVersion != "v2" {
		t.Errorf("InferenceService protocolVersion %q, want v2", m.ProtocolVersion)
	}
	if !slices.ContainsFunc(sr.Spec.SupportedModelFormats, func(f struct {
		Name       string `json:"name"`
		AutoSelect bool   `json:"autoSelect"`
	}) bool {
		return f.Name == m.ModelFormat.Name
	}) {
		t.Errorf("model format %q is not one the runtime supports", m.ModelFormat.Name)
	}
	p := is.Spec.Predictor
	if p.MinReplicas < 1 || p.MaxReplicas < p.MinReplicas || p.ScaleMetric != "concurrency" || p.ScaleTarget < 1 {
		t.Errorf("autoscaling min %d max %d %s target %d", p.MinReplicas, p.MaxReplicas, p.ScaleMetric, p.ScaleTarget)
	}
	if m.StorageURI == "" {
		t.Error("no storageUri")
	}
}

// TestTritonConfig: config.pbtxt parses as Triton's ModelConfig (the
// message from tritonclient, so an unknown or misspelt field fails) and
// names the inputs and outputs, with their widths and ranks, of an ONNX
// model aekit writes with --score mse.
func TestTritonConfig(t *testing.T) {
	py := interop.Python(t, "tritonclient.grpc.model_config_pb2", "onnx")
	m, err := train.Build(784, train.MustParseArch("32:relu|784:sigmoid"), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "model.onnx")
	if err := onnx.WriteFile(model, m, &onnx.ExportOptions{Score: &onnx.ScoreOutput{Metric: "mse"}}); err != nil {
		t.Fatal(err)
	}
	const script = `import json, sys, onnx
from google.protobuf import json_format, text_format
from tritonclient.grpc import model_config_pb2
cfg = text_format.Parse(open(sys.argv[1]).read(), model_config_pb2.ModelConfig())
print(json_format.MessageToJson(cfg, indent=None))
g = onnx.load(sys.argv[2]).graph
def shape(v):
    return [d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim]
print(json.dumps({"inputs": {v.name: shape(v) for v in g.input}, "outputs": {v.name: shape(v) for v in g.output}}))`
	lines := splitLines(interop.Run(t, py, "-c", script, filepath.Join("triton", "fashion_ae", "config.pbtxt"), model))
	if len(lines) != 2 {
		t.Fatalf("script printed %d lines", len(lines))
	}
	type tensor struct {
		Name     string   `json:"name"`
		DataType string   `json:"dataType"`
		Dims     []string `json:"dims"` // int64 fields are JSON strings
		Reshape  *struct {
			Shape []string `json:"shape"`
		} `json:"reshape"`
	}
	var cfg struct {
		Name         string   `json:"name"`
		Backend      string   `json:"backend"`
		MaxBatchSize int      `json:"maxBatchSize"`
		Input        []tensor `json:"input"`
		Output       []tensor `json:"output"`
	}
	var graph struct {
		Inputs, Outputs map[string][]int64
	}
	if err := json.Unmarshal(lines[0], &cfg); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lines[1], &graph); err != nil {
		t.Fatal(err)
	}
	if cfg.Backend != "onnxruntime" || cfg.MaxBatchSize < 1 || cfg.Name != "fashion_ae" {
		t.Errorf("config: backend %q max_batch_size %d name %q", cfg.Backend, cfg.MaxBatchSize, cfg.Name)
	}
	check := func(kind string, ts []tensor, want map[string][]int64) {
		if len(ts) != len(want) {
			t.Errorf("config has %d %ss, the ONNX graph %d (%v)", len(ts), kind, len(want), want)
		}
		for _, c := range ts {
			shape, ok := want[c.Name]
			if !ok {
				t.Errorf("config %s %q is not in the ONNX graph (%v)", kind, c.Name, want)
				continue
			}
			if c.DataType != "TYPE_FP32" {
				t.Errorf("%s %q: %s, want TYPE_FP32", kind, c.Name, c.DataType)
			}
			// With max_batch_size > 0 the dims leave out the batch axis;
			// a [batch] tensor is dims [1] reshaped to [].
			rest := shape[1:]
			switch {
			case len(rest) == 0:
				if !slices.Equal(c.Dims, []string{"1"}) || c.Reshape == nil || len(c.Reshape.Shape) != 0 {
					t.Errorf("%s %q is [batch] in the graph: want dims [1] reshape [], got %v %+v", kind, c.Name, c.Dims, c.Reshape)
				}
			default:
				var dims []int64
				for _, d := range c.Dims {
					var n int64
					json.Unmarshal([]byte(d), &n)
					dims = append(dims, n)
				}
				if !slices.Equal(dims, rest) {
					t.Errorf("%s %q: dims %v, graph %v after the batch axis", kind, c.Name, c.Dims, rest)
				}
			}
		}
	}
	check("input", cfg.Input, graph.Inputs)
	check("output", cfg.Output, graph.Outputs)
}
