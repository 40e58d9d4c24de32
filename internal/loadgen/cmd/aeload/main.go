// Command aeload is the serve benchmark's load generator and transport-limit
// server (see package loadgen and bench/serve.sh).
//
//	aeload run -target aekit=http://127.0.0.1:8000 -target kserve=http://127.0.0.1:8080 \
//	    -model ae -label ae32 -protocols json,binary -clients 1,16,64,256 -requests 3000
//	aeload echo -http 127.0.0.1:8090 -model ae -input input -output output -width 784
//	aeload summary bench/serve-2026-12-06-1200.txt
//
// run measures every (protocol, clients) pair against each target in turn
// (for gRPC, each target given a -grpc-target; its REST metadata names the
// input), so the targets are measured interleaved under the same machine
// load, -rounds times over, and prints one JSON line per run (-text: a line
// a person reads). echo serves
// the transport limit: an OIP REST server that decodes and encodes tensors
// without a model. summary reads the JSON lines of raw benchmark files and
// prints the comparison table (medians over rounds).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/aekit/aekit/internal/loadgen"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch os.Args[1] {
	case "run":
		err = run(ctx, os.Args[2:])
	case "echo":
		err = echo(ctx, os.Args[2:])
	case "summary":
		err = summary(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "aeload:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func usage() {
	fmt.Fprintln(os.Stderr, "usage: aeload run|echo|summary [flags] (aeload CMD -h for flags)")
	os.Exit(2)
}

// pairs is a repeatable label=value flag, in the order given.
type pairs struct{ keys, vals []string }

func (p *pairs) String() string { return strings.Join(p.keys, ",") }
func (p *pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want LABEL=VALUE, got %q", s)
	}
	p.keys, p.vals = append(p.keys, k), append(p.vals, v)
	return nil
}
func (p *pairs) get(k string) string {
	for i, key := range p.keys {
		if key == k {
			return p.vals[i]
		}
	}
	return ""
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%w: %q is not a number", errUsage, f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	var targets, metrics, grpcs pairs
	fs.Var(&targets, "target", "LABEL=URL of an OIP REST server (repeat; measured in this order)")
	fs.Var(&grpcs, "grpc-target", "LABEL=HOST:PORT of that target's gRPC server (repeat; for -protocols grpc)")
	fs.Var(&metrics, "metrics", "LABEL=URL of that target's Prometheus /metrics (repeat; optional)")
	batchMetric := fs.String("batch-metric", "aekit_batch_rows", "the batch-size histogram in -metrics (aekit serve's rows per batch)")
	model := fs.String("model", "", "the served model name")
	label := fs.String("label", "", "the model's label in the output (default -model)")
	protocols := fs.String("protocols", "json,binary", "comma-separated: json, binary, grpc")
	clients := fs.String("clients", "1,16,64,256", "comma-separated client counts")
	requests := fs.Int("requests", 2000, "timed requests per run")
	rounds := fs.Int("rounds", 1, "repeat every run this many times, in turn (summary takes medians)")
	warmup := fs.Int("warmup", 0, "warm-up requests per run (0: 2 per client)")
	maxDur := fs.Duration("max-duration", 60*time.Second, "bound on each run's timed part")
	checkEvery := fs.Int("check-every", 1, "decode and check every n-th response body")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for each target to be ready")
	text := fs.Bool("text", false, "print lines for people instead of JSON")
	fs.Parse(args)
	if len(targets.keys) == 0 || *model == "" {
		return fmt.Errorf("%w: run needs -target and -model", errUsage)
	}
	if *label == "" {
		*label = *model
	}
	cs, err := ints(*clients)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	infos := make([]loadgen.ModelInfo, len(targets.keys))
	for i, url := range targets.vals {
		if err := loadgen.WaitReady(ctx, client, url, *wait); err != nil {
			return err
		}
		if infos[i], err = loadgen.Discover(ctx, client, url, *model); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(os.Stdout)
	for range max(*rounds, 1) {
		for _, p := range strings.Split(*protocols, ",") {
			for _, c := range cs {
				for i, t := range targets.keys {
					proto := loadgen.Protocol(strings.TrimSpace(p))
					if proto == loadgen.GRPC && grpcs.get(t) == "" {
						continue // this target has no gRPC endpoint
					}
					cfg := loadgen.Config{
						BaseURL: targets.vals[i], GRPCAddr: grpcs.get(t), Model: *model,
						Input: infos[i].Input, Width: infos[i].Width,
						Protocol: proto, Clients: c,
						Requests: *requests, Warmup: *warmup, MaxDuration: *maxDur,
						CheckEvery: *checkEvery,
					}
					if m := metrics.get(t); m != "" {
						cfg.MetricsURL, cfg.BatchMetric = m, *batchMetric
					}
					res, err := loadgen.Run(ctx, cfg)
					if err != nil {
						return fmt.Errorf("%s: %w", t, err)
					}
					l := loadgen.NewLine(t, *label, res)
					if *text {
						fmt.Println(l)
					} else if err := enc.Encode(l); err != nil {
						return err
					}
					if ctx.Err() != nil {
						return ctx.Err()
					}
				}
			}
		}
	}
	return nil
}

func echo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
	addr := fs.String("http", "127.0.0.1:8090", "listen address (loopback)")
	var cfg loadgen.EchoConfig
	fs.StringVar(&cfg.Model, "model", "", "model name")
	fs.StringVar(&cfg.Input, "input", "input", "input tensor name")
	fs.StringVar(&cfg.Output, "output", "output", "output tensor name")
	fs.IntVar(&cfg.Width, "width", 784, "row width")
	fs.Parse(args)
	if cfg.Model == "" || cfg.Width <= 0 {
		return fmt.Errorf("%w: echo needs -model and -width > 0", errUsage)
	}
	srv := &http.Server{Addr: *addr, Handler: loadgen.Echo(cfg), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func summary(args []string) error {
	fs := flag.NewFlagSet("summary", flag.ExitOnError)
	var roles loadgen.Roles
	fs.StringVar(&roles.Served, "served", "aekit", "label of the server under test")
	fs.StringVar(&roles.Transport, "transport", "transport", "label of its transport limit")
	fs.StringVar(&roles.Unbatched, "unbatched", "aekit-nobatch", "label of the server with batching off")
	peers := fs.String("peers", "kserve,kserve-w2", "comma-separated labels of the peer servers")
	fs.Parse(args)
	roles.Peers = strings.Split(*peers, ",")
	var lines []loadgen.Line
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		l, err := loadgen.ReadLines(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		lines = append(lines, l...)
	}
	if len(lines) == 0 {
		return fmt.Errorf("%w: no result lines in %v", errUsage, fs.Args())
	}
	return loadgen.Summarize(os.Stdout, lines, roles)
}
