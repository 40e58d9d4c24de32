package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("loadgen: invalid config")

// Config describes one load run against one model.
type Config struct {
	// BaseURL is the server's REST root, e.g. "http://127.0.0.1:8000".
	BaseURL string
	// Model and Version name the model; Version "" uses the model's default.
	Model, Version string
	// Input is the name of the model's input tensor; Width its row width.
	Input string
	Width int
	// Protocol is JSON, Binary or GRPC.
	Protocol Protocol
	// GRPCAddr is the server's gRPC address (host:port), for GRPC.
	GRPCAddr string
	// Clients is the number of concurrent clients, each with its own
	// keep-alive connection (HTTP/1.1, or an HTTP/2 gRPC channel), each
	// sending its next request when the last is answered.
	Clients int
	// Requests is the number of timed requests over all clients.
	Requests int
	// Warmup requests are sent before the timed ones (same clients, not
	// counted); 0 means 2 per client.
	Warmup int
	// MaxDuration bounds the timed part; requests not sent by then are
	// not sent and Result.Cut is set. 0 means one minute.
	MaxDuration time.Duration
	// Timeout bounds each request; 0 means 30 s.
	Timeout time.Duration
	// CheckEvery decodes and checks every n-th response body in full (the
	// status of every response is checked); 0 means 1 (all).
	CheckEvery int
	// MetricsURL, when set, is scraped before and after the timed part and
	// BatchMetric (a Prometheus histogram of batch sizes, summed over its
	// label sets) gives Result.MeanBatch.
	MetricsURL, BatchMetric string
	// Seed makes the input rows reproducible (see InputRows).
	Seed uint64
	// Verify, when set, is given every checked response's first output
	// with the index of the request's row in InputRows(Seed, Width); an
	// error it returns counts the request as failed.
	Verify func(row int, output []float32) error
}

// Result is what one run measured.
type Result struct {
	Protocol Protocol
	Clients  int
	// Sent, OK and Errors count the timed requests; Sent = OK + Errors.
	Sent, OK, Errors int
	// Cut is true when MaxDuration ended the run before Requests were sent.
	Cut bool
	// Elapsed is the wall time of the timed part.
	Elapsed time.Duration
	// Throughput is OK responses per second of Elapsed.
	Throughput float64
	// Latency percentiles and maximum of the successful requests.
	P50, P90, P99, Max time.Duration
	// Statuses counts the status of every timed response: the HTTP
	// status ("200", "429") or the gRPC code ("OK", "ResourceExhausted");
	// "transport" for requests that got no answer.
	Statuses map[string]int
	// FirstError describes the first failed request, "" when none.
	FirstError string
	// MeanBatch is the server's mean batch size over the timed part, from
	// its metrics; NaN when not measured.
	MeanBatch float64
}

func (c *Config) check() error {
	switch {
	case c.Model == "" || c.Input == "":
		return fmt.Errorf("%w: Model and Input are required", ErrConfig)
	case c.Protocol == GRPC && c.GRPCAddr == "":
		return fmt.Errorf("%w: gRPC needs GRPCAddr", ErrConfig)
	case c.Protocol != GRPC && c.BaseURL == "":
		return fmt.Errorf("%w: REST needs BaseURL", ErrConfig)
	case c.Width <= 0 || c.Width > 1<<24:
		return fmt.Errorf("%w: width %d outside 1..%d", ErrConfig, c.Width, 1<<24)
	case c.Clients <= 0 || c.Clients > 4096:
		return fmt.Errorf("%w: clients %d outside 1..4096", ErrConfig, c.Clients)
	case c.Requests <= 0 || c.Requests > 1<<24:
		return fmt.Errorf("%w: requests %d outside 1..%d", ErrConfig, c.Requests, 1<<24)
	case c.Protocol != JSON && c.Protocol != Binary && c.Protocol != GRPC:
		return fmt.Errorf("%w: protocol %q (want json, binary or grpc)", ErrConfig, c.Protocol)
	}
	return nil
}

// InferURL is the model's OIP infer endpoint.
func (c *Config) InferURL() string {
	u := strings.TrimRight(c.BaseURL, "/") + "/v2/models/" + c.Model
	if c.Version != "" {
		u += "/versions/" + c.Version
	}
	return u + "/infer"
}

// numRows is how many distinct pre-encoded rows the clients cycle through.
const numRows = 16

// InputRows returns the rows a run with this seed and width sends, uniform
// in [0, 1): request i carries row i mod len(rows).
func InputRows(seed uint64, width int) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 0x6c6f6164))
	rows := make([][]float32, numRows)
	for i := range rows {
		rows[i] = make([]float32, width)
		for j := range rows[i] {
			rows[i][j] = rng.Float32()
		}
	}
	return rows
}

// checkOutput checks one response's first output: its width, then Verify.
func checkOutput(out []float32, width, row int, verify func(int, []float32) error) error {
	if len(out) != width {
		return fmt.Errorf("%w: %d output values, want %d", ErrBadResponse, len(out), width)
	}
	if verify != nil {
		if err := verify(row, out); err != nil {
			return fmt.Errorf("%w: row %d: %v", ErrBadResponse, row, err)
		}
	}
	return nil
}

type body struct {
	data      []byte
	headerLen int // 0 for JSON
}

// Run sends cfg.Warmup and then cfg.Requests infer requests from
// cfg.Clients concurrent clients and returns what it measured. An error is
// returned only for a bad Config or an unreachable metrics endpoint; failed
// requests are counted in the Result.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	if cfg.Warmup == 0 {
		cfg.Warmup = 2 * cfg.Clients
	}
	if cfg.MaxDuration == 0 {
		cfg.MaxDuration = time.Minute
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.CheckEvery <= 0 {
		cfg.CheckEvery = 1
	}
	rows := InputRows(cfg.Seed, cfg.Width)
	var send sendFunc
	var closeSender func()
	var err error
	if cfg.Protocol == GRPC {
		send, closeSender, err = grpcSender(&cfg, rows)
	} else {
		send, closeSender, err = restSender(&cfg, rows)
	}
	if err != nil {
		return Result{}, err
	}
	defer closeSender()
	client := &http.Client{Timeout: cfg.Timeout}

	// Warm-up: open the connections and let the server settle.
	runPhase(ctx, send, cfg.Clients, cfg.Warmup, 0, nil)

	res := Result{Protocol: cfg.Protocol, Clients: cfg.Clients, MeanBatch: math.NaN()}
	var before Histogram
	if cfg.MetricsURL != "" {
		var err error
		if before, err = ScrapeHistogram(ctx, client, cfg.MetricsURL, cfg.BatchMetric); err != nil {
			return res, err
		}
	}
	tctx, cancel := context.WithTimeout(ctx, cfg.MaxDuration)
	defer cancel()
	start := time.Now()
	recs := runPhase(tctx, send, cfg.Clients, cfg.Requests, cfg.CheckEvery, &res)
	res.Elapsed = time.Since(start)
	if cfg.MetricsURL != "" {
		after, err := ScrapeHistogram(ctx, client, cfg.MetricsURL, cfg.BatchMetric)
		if err != nil {
			return res, err
		}
		res.MeanBatch = after.Sub(before).Mean()
	}
	res.Statuses = map[string]int{}
	var lat []time.Duration
	for _, r := range recs {
		res.Sent++
		if r.status == "" {
			res.Statuses["transport"]++
		} else {
			res.Statuses[r.status]++
		}
		if r.err == nil {
			res.OK++
			lat = append(lat, r.latency)
		} else {
			res.Errors++
		}
	}
	res.Cut = res.Sent < cfg.Requests
	if res.Elapsed > 0 {
		res.Throughput = float64(res.OK) / res.Elapsed.Seconds()
	}
	slices.Sort(lat)
	res.P50, res.P90, res.P99 = Percentile(lat, 50), Percentile(lat, 90), Percentile(lat, 99)
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	return res, nil
}

type record struct {
	latency time.Duration
	status  string // "" when no answer came
	err     error
	out     []float32 // the decoded output, until checked
}

// sendFunc sends request number i from client c and records it; check asks
// for the answer's body to be decoded and checked.
type sendFunc func(ctx context.Context, c, i int, check bool) record

// restSender returns a sendFunc for JSON or Binary REST: the bodies of rows
// encoded once, one keep-alive connection per client.
func restSender(cfg *Config, rows [][]float32) (sendFunc, func(), error) {
	bodies := make([]body, len(rows))
	for i, row := range rows {
		b, hl, err := EncodeRequest(cfg.Protocol, cfg.Input, row)
		if err != nil {
			return nil, nil, err
		}
		bodies[i] = body{data: b, headerLen: hl}
	}
	tr := &http.Transport{
		MaxIdleConns:        cfg.Clients,
		MaxIdleConnsPerHost: cfg.Clients,
		MaxConnsPerHost:     cfg.Clients,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	client := &http.Client{Transport: tr, Timeout: cfg.Timeout}
	url, width, verify := cfg.InferURL(), cfg.Width, cfg.Verify
	send := func(ctx context.Context, _, i int, check bool) record {
		r := doRequest(ctx, client, url, bodies[i%len(bodies)], check)
		if r.err == nil && r.out != nil {
			r.err = checkOutput(r.out, width, i%len(bodies), verify)
		}
		r.out = nil
		return r
	}
	return send, tr.CloseIdleConnections, nil
}

// runPhase sends n requests from clients goroutines and returns one record
// per request sent. When res is non-nil the first error is stored in it.
// checkEvery 0 skips body checks (warm-up).
func runPhase(ctx context.Context, send sendFunc, clients, n, checkEvery int, res *Result) []record {
	var next atomic.Int64
	per := make([][]record, clients)
	var wg sync.WaitGroup
	var firstErr sync.Once
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := make([]record, 0, n/clients+1)
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					break
				}
				r := send(ctx, c, i, checkEvery > 0 && i%checkEvery == 0)
				if r.err != nil && ctx.Err() != nil && r.status == "" {
					break // cut by the deadline, not a server failure
				}
				if r.err != nil && res != nil {
					firstErr.Do(func() { res.FirstError = r.err.Error() })
				}
				recs = append(recs, r)
			}
			per[c] = recs
		}()
	}
	wg.Wait()
	return slices.Concat(per...)
}

// NewInferRequest returns a POST of an EncodeRequest body to url with the
// headers its protocol needs: Content-Type application/json, or for a
// binary body (headerLen > 0) application/octet-stream and
// Inference-Header-Content-Length.
func NewInferRequest(ctx context.Context, url string, body []byte, headerLen int) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if headerLen > 0 {
		req.Header.Set(HeaderLength, strconv.Itoa(headerLen))
		req.Header.Set("Content-Type", "application/octet-stream")
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

func doRequest(ctx context.Context, client *http.Client, url string, b body, check bool) record {
	req, err := NewInferRequest(ctx, url, b.data, b.headerLen)
	if err != nil {
		return record{err: err}
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return record{err: err}
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	lat := time.Since(t0)
	r := record{latency: lat, status: strconv.Itoa(resp.StatusCode)}
	switch {
	case err != nil:
		r.err = err
	case resp.StatusCode != http.StatusOK:
		r.err = fmt.Errorf("%w: HTTP %d: %.200s", ErrBadResponse, resp.StatusCode, data)
	case check:
		r.out, r.err = DecodeResponse(data, resp.Header.Get(HeaderLength))
	}
	return r
}

// Percentile returns the p-th percentile (nearest rank) of sorted, 0 when empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(k, len(sorted)-1))]
}
