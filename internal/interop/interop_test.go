package interop

import "testing"

// TestPython checks that the reference environment imports every tool the
// interop tests use; with AEKIT_INTEROP=1 a missing one fails here first.
func TestPython(t *testing.T) {
	py := Python(t, "tensorflow", "keras", "tf_keras", "tf2onnx", "onnx", "onnxruntime", "h5py", "numpy", "tritonclient.http", "tritonclient.grpc")
	out := Run(t, py, "-c", "import keras, tf_keras; print(keras.__version__[0], tf_keras.__version__[0])")
	if got := string(out); got != "3 2\n" {
		t.Fatalf("Keras major versions = %q, want 3 (keras) and 2 (tf_keras)", got)
	}
}
