package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ModelInfo is what a load run needs from a model's OIP metadata.
type ModelInfo struct {
	// Input is the first input's name, Width its last dimension.
	Input string
	Width int
}

// Discover reads the model's metadata (GET /v2/models/{model}) and returns
// its first input's name and row width.
func Discover(ctx context.Context, client *http.Client, baseURL, model string) (ModelInfo, error) {
	url := strings.TrimRight(baseURL, "/") + "/v2/models/" + model
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return ModelInfo{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return ModelInfo{}, fmt.Errorf("loadgen: model metadata: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return ModelInfo{}, fmt.Errorf("loadgen: model metadata %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return ModelInfo{}, fmt.Errorf("loadgen: model metadata %s: HTTP %d: %.200s", url, resp.StatusCode, body)
	}
	var meta struct {
		Inputs []struct {
			Name     string  `json:"name"`
			Datatype string  `json:"datatype"`
			Shape    []int64 `json:"shape"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return ModelInfo{}, fmt.Errorf("loadgen: model metadata %s: %w", url, err)
	}
	if len(meta.Inputs) == 0 {
		return ModelInfo{}, fmt.Errorf("loadgen: model metadata %s: no inputs", url)
	}
	in := meta.Inputs[0]
	if len(in.Shape) == 0 || in.Shape[len(in.Shape)-1] <= 0 || in.Shape[len(in.Shape)-1] > 1<<24 {
		return ModelInfo{}, fmt.Errorf("loadgen: model metadata %s: input %q shape %v has no fixed row width", url, in.Name, in.Shape)
	}
	return ModelInfo{Input: in.Name, Width: int(in.Shape[len(in.Shape)-1])}, nil
}

// WaitReady polls GET /v2/health/ready until it answers 200 or timeout passes.
func WaitReady(ctx context.Context, client *http.Client, baseURL string, timeout time.Duration) error {
	url := strings.TrimRight(baseURL, "/") + "/v2/health/ready"
	deadline := time.Now().Add(timeout)
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("loadgen: %s not ready after %v: %w", url, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
