package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/aekit/aekit/internal/oip"
	"github.com/aekit/aekit/internal/version"
)

// Timeouts of the HTTP server Run starts.
const (
	// ReadHeaderTimeout bounds the reading of a request's headers.
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds the reading of a whole request.
	ReadTimeout = time.Minute
	// WriteTimeout bounds a request from the end of its headers to the
	// end of its answer.
	WriteTimeout = time.Minute
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request.
	IdleTimeout = 2 * time.Minute
)

// Server serves models over the Open Inference Protocol: REST (Handler)
// and gRPC (NewGRPCServer), with dynamic batching per model. Its methods
// are safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	met     *metrics
	workers int

	models   atomic.Pointer[map[string]*model]
	reloadMu sync.Mutex // serialises Reload and Close
	closed   bool
	ready    atomic.Bool
	sem      chan struct{} // in-flight inference requests
	accepted atomic.Int64  // inference requests admitted
	answered atomic.Int64  // admitted requests whose answer was written
	body     *budget       // bytes of request bodies and gRPC messages held (Config.MaxBodyBuffer)
	streams  atomic.Int64  // gRPC calls open (at most Config.MaxInflight)
	callTime time.Duration // bound on a gRPC call (ReadTimeout+WriteTimeout)

	mux *http.ServeMux
}

// New loads the models cfg names and returns a Server serving them,
// ready. A model that fails to load fails New.
func New(cfg Config) (*Server, error) {
	c := cfg.withDefaults()
	s := &Server{cfg: c, log: c.Logger, met: newMetrics(), workers: c.Workers,
		sem: make(chan struct{}, c.MaxInflight), body: newBudget(c.MaxBodyBuffer), callTime: ReadTimeout + WriteTimeout}
	if s.workers <= 0 {
		s.workers = runtime.GOMAXPROCS(0)
	}
	srcs, err := scan(c.Repository, c.Models, c.ModelName)
	if err != nil {
		return nil, err
	}
	ms := map[string]*model{}
	for _, src := range srcs {
		mo, err := s.load(src)
		if err != nil {
			for _, m := range ms {
				m.b.close()
			}
			return nil, err
		}
		ms[mo.src.name] = mo
	}
	s.models.Store(&ms)
	s.mux = s.routes()
	s.ready.Store(true)
	return s, nil
}

// load stats and loads one model and starts its batcher.
func (s *Server) load(src source) (*model, error) {
	src, err := stat(src)
	if err == nil {
		var mo *model
		if mo, err = loadModel(src); err == nil {
			mo.b = newBatcher(mo, &s.cfg, s.workers, s.met)
			s.met.loads.WithLabelValues(src.name, "ok").Inc()
			s.log.Info("model loaded", "model", src.name, "version", src.version, "path", src.path,
				"platform", mo.platform, "input", mo.in, "input_shape", mo.inShape, "output", mo.out,
				"output_shape", mo.outShape, "threshold", mo.threshold != nil)
			return mo, nil
		}
	}
	s.met.loads.WithLabelValues(src.name, "error").Inc()
	return nil, err
}

// Reload scans the repository and the model files again: a new or
// changed model (file size, modification time or sidecar threshold) is
// loaded and replaces the one served once loaded; a model gone from the
// repository is unloaded after its queued requests; a model that fails
// to load leaves the version already served (if any) serving. The error
// joins the failures, each naming its file.
func (s *Server) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.closed {
		return ErrUnavailable
	}
	srcs, err := scan(s.cfg.Repository, s.cfg.Models, s.cfg.ModelName)
	if err != nil {
		s.log.Error("reload: repository not read; models unchanged", "error", err)
		return err
	}
	old := *s.models.Load()
	next := map[string]*model{}
	var errs []error
	for _, src := range srcs {
		cur := old[src.name]
		if st, err := stat(src); err == nil && cur != nil && cur.src.same(st) {
			next[src.name] = cur
			continue
		}
		mo, err := s.load(src)
		if err != nil {
			errs = append(errs, err)
			if cur != nil {
				s.log.Error("reload: model failed to load; the old version serves on", "model", src.name,
					"version", cur.src.version, "error", err)
				next[src.name] = cur
			} else {
				s.log.Error("reload: model failed to load", "model", src.name, "error", err)
			}
			continue
		}
		next[src.name] = mo
	}
	s.models.Store(&next)
	changed := 0
	for name, mo := range next {
		if old[name] != mo {
			changed++
		}
	}
	for name := range old {
		if next[name] == nil {
			changed++
		}
	}
	level := slog.LevelDebug // a poll that found nothing new
	if changed > 0 || len(errs) > 0 {
		level = slog.LevelInfo
	}
	s.log.Log(context.Background(), level, "reloaded", "models", len(next), "changed", changed, "failed", len(errs))
	for name, mo := range old {
		if next[name] != mo {
			s.log.Info("model unloaded", "model", name, "version", mo.src.version)
			go mo.b.close() // after its queued requests
		}
	}
	return errors.Join(errs...)
}

// lookup returns the model name at version ("" for the one served).
func (s *Server) lookup(name, ver string) (*model, error) {
	mo := (*s.models.Load())[name]
	if mo == nil {
		return nil, fmt.Errorf("%w: unknown model %q", ErrNotFound, name)
	}
	if ver != "" && ver != mo.src.version {
		return nil, fmt.Errorf("%w: model %q has no version %q (version %s is served)", ErrNotFound, name, ver, mo.src.version)
	}
	return mo, nil
}

// Ready reports whether the server is ready: true from New until Run's
// context is done or SetReady(false).
func (s *Server) Ready() bool { return s.ready.Load() }

// SetReady sets what the readiness endpoints answer.
func (s *Server) SetReady(r bool) { s.ready.Store(r) }

// infer runs a checked job through its model's batcher (or Echo), waits
// for it and returns the model that ran it: mo, or the version that
// replaced mo since it was looked up, when its tensors have the same
// widths.
func (s *Server) infer(mo *model, j *job) (*model, error) {
	if s.cfg.Echo {
		echo(j, mo)
		return mo, nil
	}
	err := mo.b.submit(j)
	if errors.Is(err, ErrUnavailable) {
		if cur, lerr := s.lookup(mo.src.name, ""); lerr == nil && cur != mo && cur.answersAs(mo) {
			mo, err = cur, cur.b.submit(j)
		}
	}
	if err != nil {
		return mo, err
	}
	<-j.done
	return mo, j.err
}

// answersAs reports whether mo answers every request o answers, with
// tensors of the same names and widths.
func (mo *model) answersAs(o *model) bool {
	return mo.in == o.in && mo.out == o.out && mo.inW == o.inW && mo.outW == o.outW && mo.canScore == o.canScore &&
		(mo.threshold != nil || o.threshold == nil)
}

// run checks req against mo, the model looked up as name and version
// ver, and runs it. A reload that replaced mo after the lookup (its
// batcher closed: ErrUnavailable) is not the client's concern: the
// request is checked against and run by the model now served, if any,
// which run returns.
func (s *Server) run(req *inferRequest, mo *model, name, ver string) (*model, *job, []string, error) {
	for tries := 0; ; tries++ {
		j, outs, err := prepare(req, mo, s.cfg.MaxRows)
		if err != nil {
			return mo, nil, nil, err
		}
		mo, err = s.infer(mo, j)
		if errors.Is(err, ErrUnavailable) && tries < 3 {
			cur, lerr := s.lookup(name, ver)
			if lerr != nil {
				return mo, nil, nil, lerr
			}
			if cur != mo {
				mo = cur
				continue
			}
		}
		return mo, j, outs, err
	}
}

// admit takes a place among the in-flight requests, or reports
// ErrOverloaded.
func (s *Server) admit() error {
	select {
	case s.sem <- struct{}{}:
		s.accepted.Add(1)
		s.met.inflight.Inc()
		return nil
	default:
		return fmt.Errorf("%w: %d requests in flight", ErrOverloaded, s.cfg.MaxInflight)
	}
}

func (s *Server) release() {
	s.met.inflight.Dec()
	<-s.sem
}

// Close unloads every model after its queued requests have run. The
// servers must be stopped first (Run does both).
func (s *Server) Close() {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.ready.Store(false)
	for _, mo := range *s.models.Load() {
		mo.b.close()
	}
}

// grpcWindow is the HTTP/2 flow-control window of a gRPC call (bytes):
// a call not yet reading its message (waiting for its share of
// Config.MaxBodyBuffer) holds at most this much of it. A fixed window
// also turns off grpc-go's window growth (up to 16 MiB a call).
const grpcWindow = 1 << 16

// NewGRPCServer returns a gRPC server serving
// inference.GRPCInferenceService with bounded memory:
//   - at most Config.MaxInflight calls are open at once, and each must
//     end within ReadTimeout+WriteTimeout (DEADLINE_EXCEEDED after);
//   - a ModelInfer call is refused with RESOURCE_EXHAUSTED before its
//     message is read when Config.MaxInflight requests are in progress
//     (a tap handle, grpc-go's rate-limiting hook);
//   - a call reads its message only after taking Config.MaxBodyBytes of
//     Config.MaxBodyBuffer (shared with the REST bodies; it waits for
//     them, a slow sender cannot make the others allocate), and keeps
//     the message's size of it until answered;
//   - a message over Config.MaxBodyBytes gets RESOURCE_EXHAUSTED from
//     the gRPC library.
//
// The service is served by a handler of its own (grpc.UnknownServiceHandler)
// that reads each message itself, so the methods are not listed by
// grpc.Server.GetServiceInfo.
func (s *Server) NewGRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	admit := func(ctx context.Context, info *tap.Info) (context.Context, error) {
		if info.FullMethodName == oip.GRPCInferenceService_ModelInfer_FullMethodName && len(s.sem) == cap(s.sem) {
			return ctx, status.Errorf(codes.ResourceExhausted, "%v: %d requests in flight", ErrOverloaded, s.cfg.MaxInflight)
		}
		if s.streams.Add(1) > int64(s.cfg.MaxInflight) {
			s.streams.Add(-1)
			return ctx, status.Errorf(codes.ResourceExhausted, "%v: %d gRPC calls open", ErrOverloaded, s.cfg.MaxInflight)
		}
		// The call's context is cancelled when its stream ends, however
		// it ends; the deadline bounds a slow sender.
		ctx, cancel := context.WithTimeout(ctx, s.callTime)
		context.AfterFunc(ctx, func() {
			cancel()
			s.streams.Add(-1)
		})
		return ctx, nil
	}
	g := newGRPCService(s)
	opts = append([]grpc.ServerOption{grpc.MaxRecvMsgSize(int(s.cfg.MaxBodyBytes)), grpc.MaxSendMsgSize(1 << 30),
		grpc.InTapHandle(admit), grpc.InitialWindowSize(grpcWindow), grpc.InitialConnWindowSize(16 * grpcWindow),
		grpc.UnknownServiceHandler(g.handle)}, opts...)
	return grpc.NewServer(opts...)
}

// Run serves HTTP on httpLn and gRPC on grpcLn (either may be nil) until
// ctx is done, calling Reload every Config.PollInterval, then shuts down: readiness goes false, after
// Config.DrainDelay the listeners close, requests in flight are answered
// (within Config.ShutdownTimeout) and the models unloaded. It returns nil
// after a clean shutdown.
func (s *Server) Run(ctx context.Context, httpLn, grpcLn net.Listener) error {
	errc := make(chan error, 2)
	var hs *http.Server
	if httpLn != nil {
		hs = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
			WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: 1 << 16,
			ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
		go func() {
			if err := hs.Serve(httpLn); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http: %w", err)
			}
		}()
		s.log.Info("serving HTTP", "addr", httpLn.Addr().String())
	}
	var gs *grpc.Server
	if grpcLn != nil {
		gs = s.NewGRPCServer()
		go func() {
			if err := gs.Serve(grpcLn); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				errc <- fmt.Errorf("grpc: %w", err)
			}
		}()
		s.log.Info("serving gRPC", "addr", grpcLn.Addr().String())
	}
	var poll <-chan time.Time
	if s.cfg.PollInterval > 0 {
		t := time.NewTicker(s.cfg.PollInterval)
		defer t.Stop()
		poll = t.C
	}
	var runErr error
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case runErr = <-errc:
			break wait
		case <-poll:
			s.Reload() // logs what failed; the old versions serve on
		}
	}
	s.ready.Store(false)
	s.log.Info("shutting down: not ready", "drain_delay", s.cfg.DrainDelay.String())
	if runErr == nil && s.cfg.DrainDelay > 0 {
		time.Sleep(s.cfg.DrainDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	if hs != nil {
		wg.Go(func() {
			if err := hs.Shutdown(sctx); err != nil {
				s.log.Error("http shutdown", "error", err)
				hs.Close()
			}
		})
	}
	if gs != nil {
		wg.Go(func() {
			done := make(chan struct{})
			go func() { gs.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-sctx.Done():
				gs.Stop()
			}
		})
	}
	wg.Wait()
	s.Close()
	s.log.Info("stopped", "accepted", s.accepted.Load(), "answered", s.answered.Load())
	return runErr
}

// serverMetadata is the server's name, version and protocol extensions.
func serverMetadata() (name, ver string, ext []string) {
	return "aekit", version.Short(), []string{"binary_tensor_data"}
}
