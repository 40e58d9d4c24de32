package interop

// TF2ONNXJob is one job of tools/python/tf2onnx_convert.py (read its
// docstring): a Keras file (with its architecture file for weights-only
// files), the Keras that loads it ("keras3" or "tf_keras"), the float32
// .npy input Keras predicts on, the opsets to convert at and the output
// path prefix.
type TF2ONNXJob struct {
	Name   string  `json:"name"`
	File   string  `json:"file"`
	Arch   *string `json:"arch"`
	Writer string  `json:"writer"`
	Input  string  `json:"input"`
	Opsets []int   `json:"opsets"`
	Out    string  `json:"out"`
}

// TF2ONNXResult is the line tools/python/tf2onnx_convert.py prints for a
// job: Keras's outputs (.npy) and the converted file by opset, or the
// error.
type TF2ONNXResult struct {
	Name  string            `json:"name"`
	Keras string            `json:"keras"`
	ONNX  map[string]string `json:"onnx"`
	Error string            `json:"error"`
}
