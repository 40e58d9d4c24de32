package serve_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aekit/aekit/serve"
)

// Serve a Keras autoencoder and ask it, in JSON, for its reconstruction
// and the row's reconstruction error.
func Example() {
	s, err := serve.New(serve.Config{
		Models: []string{"../fixtures/keras/gen/k3_autoencoder.keras"},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	resp, err := http.Get(ts.URL + "/v2/models/k3_autoencoder")
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(b))

	req := `{"inputs":[{"name":"input_layer_2","shape":[1,16],"datatype":"FP32",
	  "data":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]]}],
	  "outputs":[{"name":"reconstruction_error"}]}`
	resp, err = http.Post(ts.URL+"/v2/models/k3_autoencoder/infer", "application/json", strings.NewReader(req))
	if err != nil {
		log.Fatal(err)
	}
	var answer struct {
		ModelName string `json:"model_name"`
		Outputs   []struct {
			Name  string
			Shape []int
			Data  []float32
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	o := answer.Outputs[0]
	fmt.Printf("%d %s %s %v %.4f\n", resp.StatusCode, answer.ModelName, o.Name, o.Shape, o.Data)
	// Output:
	// 200 {"inputs":[{"name":"input_layer_2","datatype":"FP32","shape":[-1,16]}],"name":"k3_autoencoder","outputs":[{"name":"decoder","datatype":"FP32","shape":[-1,16]},{"name":"reconstruction_error","datatype":"FP32","shape":[-1]}],"platform":"aekit_keras","versions":["1"]}
	// 200 k3_autoencoder reconstruction_error [1] [0.2497]
}
