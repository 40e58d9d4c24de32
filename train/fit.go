package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"time"

	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train/internal/order"
)

// Config configures Fit. Start from DefaultConfig, which holds Keras's
// fit defaults; the zero Config is invalid only in that Epochs and
// BatchSize are required. Every other zero value is a Keras default or
// the plain choice: Adam with Keras defaults, binary cross-entropy,
// shuffling every epoch (Keras's shuffle=True), seed 0, no validation,
// all CPUs, no early stopping, no checkpoint.
type Config struct {
	// Optimizer updates the weights; nil means &Adam{}.
	Optimizer Optimizer
	// Loss is the loss function; the zero value is BinaryCrossentropy.
	Loss Loss
	// Epochs is the index of the last epoch plus one, as Keras's epochs:
	// training runs epochs InitialEpoch..Epochs-1. Must be ≥ 1.
	Epochs int
	// InitialEpoch is the epoch to start at (Keras's initial_epoch); it
	// only numbers epochs and does not restore optimizer state (use
	// Resume for that).
	InitialEpoch int
	// BatchSize is the number of rows per update; the last batch of an
	// epoch may be smaller. Must be ≥ 1. Keras's default is 32.
	BatchSize int
	// NoShuffle keeps the training rows in their order, as Keras's
	// shuffle=False. The default (false) reorders them before every
	// epoch, as Keras's shuffle=True (its default); the order comes from
	// a PCG generator seeded with Seed, not from Keras's generator.
	NoShuffle bool
	// Seed seeds the shuffling generator.
	Seed uint64
	// ValidationSplit in [0, 1) holds out the last fraction of the rows,
	// taken before shuffling as Keras does: rows from
	// floor(n·(1−ValidationSplit)) on (see SplitRows). Ignored when Fit
	// is given separate validation data.
	ValidationSplit float64
	// Threads is the number of goroutines a step uses; ≤ 0 means all
	// CPUs (runtime.GOMAXPROCS). The weights and history are
	// bit-identical for the same Seed whatever Threads is: every matrix
	// product is cut into the same blocks of 128 rows (or columns) for
	// any thread count, and no sum depends on the split
	// (TestThreadsIdentical). At batch 256 the products over batch rows
	// therefore use at most 2 threads (see the package doc).
	Threads int
	// EarlyStopping, when not nil, stops training when the monitored loss
	// stops improving.
	EarlyStopping *EarlyStopping
	// CheckpointPath, when set, names a file written atomically after
	// every epoch and when the context is cancelled; see Checkpoint.
	CheckpointPath string
	// Resume, when not nil, continues the run saved in a checkpoint:
	// weights, optimizer state, generator state, epoch and batch,
	// history and early-stopping state. The model must have the same
	// layers as Resume.Model, and the data, BatchSize, NoShuffle, Seed,
	// ValidationSplit, Loss and optimizer must be those of the saved run;
	// Epochs may differ. Resume.Config returns a Config that satisfies
	// this.
	Resume *Checkpoint
	// AllowUnscaledTargets lets binary cross-entropy train on targets
	// outside [0, 1], which Fit otherwise refuses with a
	// *TargetRangeError (ErrTargetRange) before the first step; Keras
	// accepts them silently and reports a meaningless, often negative,
	// loss.
	AllowUnscaledTargets bool
	// OnEpoch, when not nil, is called after every epoch.
	OnEpoch func(EpochLog)
	// OnBatch, when not nil, is called after every batch.
	OnBatch func(BatchLog)
	// Times, when not nil, receives the time of every training batch,
	// phase by phase, and of its matrix products (see StepTimes); Fit
	// adds to what it holds. It costs two clock readings per product and
	// phase, a few microseconds a step.
	Times *StepTimes
}

// DefaultConfig returns Keras's own Model.fit defaults (Keras 3 and
// tf-keras alike) as a Config: epochs=1, batch_size=32, shuffle=True
// (NoShuffle false, as in the zero Config),
// validation_split=0.0, initial_epoch=0, with Adam at its Keras defaults
// (learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7) and binary
// cross-entropy (compile has no default loss; this is the autoencoder's),
// seed 0, all CPUs, no early stopping and no checkpoint.
func DefaultConfig() Config {
	return Config{Optimizer: &Adam{}, Loss: BinaryCrossentropy, Epochs: 1, BatchSize: 32}
}

// EarlyStopping is Keras's EarlyStopping callback: an epoch improves when
// the monitored value drops below the best one by more than MinDelta;
// training stops once Patience epochs in a row have not improved (not
// before the second epoch).
type EarlyStopping struct {
	// Monitor is "val_loss" or "loss"; "" means val_loss when there is
	// validation data and loss otherwise.
	Monitor string
	// Patience is the number of epochs without improvement to tolerate.
	Patience int
	// MinDelta is the smallest decrease counted as an improvement.
	MinDelta float64
	// RestoreBestWeights puts back the weights of the best epoch when
	// training ends, whether early stopping ended it or the last epoch
	// did, as Keras 3's (and tf-keras 2.21's) on_train_end does.
	RestoreBestWeights bool
}

// EpochLog reports a finished epoch.
type EpochLog struct {
	Epoch   int     // 0-based epoch index
	Epochs  int     // Config.Epochs
	Steps   int     // batches (optimizer updates) per epoch
	Loss    float64 // mean training loss over the epoch
	ValLoss float64 // validation loss; NaN without validation data
	Seconds float64 // wall time of the epoch, validation included
}

// BatchLog reports a finished batch.
type BatchLog struct {
	Epoch, Epochs   int     // 0-based epoch index, Config.Epochs
	Batch, Batches  int     // 0-based batch index, batches per epoch
	Loss            float64 // running mean training loss of the epoch so far
	Samples, Total  int     // rows done this epoch, rows per epoch
	Elapsed         float64 // seconds since the epoch started
	Iterations      int64   // optimizer updates so far
	BatchLoss       float64 // this batch's loss
	ValidationSplit bool    // validation runs at the end of the epoch
}

// History records the epochs Fit ran (with Resume, also those of the run
// it continues).
type History struct {
	Epoch   []int     // 0-based epoch indices
	Loss    []float64 // training loss per epoch
	ValLoss []float64 // validation loss per epoch; nil without validation
	Seconds []float64 // wall time per epoch
	// StoppedEpoch is the 0-based epoch after which early stopping ended
	// training, or -1.
	StoppedEpoch int
	// BestEpoch is the early-stopping monitor's best epoch, or -1.
	BestEpoch int
}

// esState is early stopping's running state.
type esState struct {
	Best        float64
	Wait        int
	BestEpoch   int
	BestWeights []float32
}

// runState is everything a checkpoint saves besides the weights.
type runState struct {
	epoch      int     // epoch in progress
	batch      int     // batches of epoch done
	iter       int64   // optimizer updates done
	lossSum    float64 // Σ batch loss × rows this epoch
	samples    int
	seconds    float64 // time already spent in this epoch
	rngAtEpoch []byte  // generator state when epoch started
	es         esState
}

// Fit trains m in place on the rows of train (inputs train.X of
// InputWidth values each, targets train.Y of OutputWidth values; Y nil
// means Y = X, an autoencoder), validating after every epoch on val (the
// zero Set: none, or the last rows of train with
// Config.ValidationSplit), with Keras's fit semantics, and returns the
// history. Dense layers' Kernel and Bias are replaced by views of one
// contiguous buffer holding the trained values, so m goes straight to
// runtime Predict or a writer.
//
// Fit checks everything before training: data widths and row counts
// (ErrData), NaN or Inf values (ErrNonFinite, naming the data — data,
// target, validation data or validation target — and the first bad row),
// the configuration (Config.Validate), the model (ErrModel, including one
// too large for MaxValues). A non-finite batch loss stops training with
// ErrNaNLoss before that batch's update. When ctx is cancelled Fit stops
// after the current batch, writes the checkpoint if CheckpointPath is set,
// and returns the history so far with an error wrapping ErrInterrupted.
// An error reading the data (a file truncated while mapped, say) wraps
// ErrData; the last checkpoint is left as it was.
//
// The data is read through Data.ReadRows only: rows in data order for the
// scans and validation, shuffled rows by index for training, so data
// larger than memory (npy.Matrix) trains with the process's resident
// memory bounded by the model and a batch.
func Fit(ctx context.Context, m *runtime.Model, train, val Set, cfg Config) (*History, error) {
	r, err := prepare(ctx, m, train, val, cfg)
	if err != nil {
		return nil, err
	}
	defer r.close()
	for r.st.epoch < r.cfg.Epochs {
		stop, err := r.epoch()
		if err != nil {
			return r.hist, err
		}
		if stop {
			break
		}
	}
	r.finish()
	return r.hist, nil
}

// run is one Fit in progress: the data, the flattened model, the
// optimizer state and everything a checkpoint saves.
type run struct {
	ctx context.Context
	m   *runtime.Model
	cfg Config

	x, y       Data // training inputs and targets (rows 0..nTrain)
	vx, vy     Data // validation inputs and targets (rows vOff..vOff+nv)
	nTrain, nv int
	vOff       int

	nt         *net
	slots      [][]float32
	hist       *History
	st         runState
	rng        *rand.Rand
	pcg        *rand.PCG
	fp         DataFingerprint
	perm       []int
	batches    int
	monitorVal bool
}

// prepare checks the model, the configuration and the data, and sets up
// a run: the flattened model, the optimizer state and, with Resume, the
// saved run's state.
func prepare(ctx context.Context, m *runtime.Model, train, val Set, cfg Config) (*run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	r := &run{ctx: ctx, m: m, cfg: cfg}
	if err := r.setData(train, val); err != nil {
		return nil, err
	}
	maxB := min(cfg.BatchSize, max(r.nTrain, r.nv))
	copies := 2 + len(cfg.Optimizer.slots()) // weights, gradients, state
	if cfg.EarlyStopping != nil && cfg.EarlyStopping.RestoreBestWeights {
		copies++
	}
	if err := checkSize(m, maxB, copies); err != nil {
		return nil, err
	}
	nt, err := newNet(m, cfg.Loss, maxB, cfg.Threads)
	if err != nil {
		return nil, err
	}
	r.nt = nt
	nt.seed = cfg.Seed
	if cfg.Times != nil {
		nt.timeSteps(cfg.Times)
	}
	r.slots = nt.newSlots(cfg.Optimizer)
	r.hist = &History{StoppedEpoch: -1, BestEpoch: -1}
	r.st = runState{epoch: cfg.InitialEpoch, es: esState{Best: math.Inf(1), BestEpoch: -1}}
	r.rng, r.pcg = order.New(cfg.Seed)
	if cfg.CheckpointPath != "" || cfg.Resume != nil {
		if r.fp, err = r.fingerprint(); err != nil {
			nt.close()
			return nil, err
		}
	}
	if ck := cfg.Resume; ck != nil {
		if err := ck.restore(&r.cfg, nt, r.slots, r.hist, &r.st, r.pcg, r.fp); err != nil {
			nt.close()
			return nil, err
		}
	}
	r.monitorVal = r.nv > 0
	if es := cfg.EarlyStopping; es != nil && es.Monitor != "" {
		switch es.Monitor {
		case "loss":
			r.monitorVal = false
		case "val_loss":
			if r.nv == 0 {
				nt.close()
				return nil, fmt.Errorf("%w: early stopping monitors val_loss but there is no validation data", ErrConfig)
			}
		default:
			nt.close()
			return nil, fmt.Errorf("%w: early stopping monitor %q (valid: loss, val_loss)", ErrConfig, es.Monitor)
		}
	}
	r.perm = make([]int, r.nTrain)
	r.batches = (r.nTrain + cfg.BatchSize - 1) / cfg.BatchSize
	return r, nil
}

// setData checks the training and validation data against the model —
// widths, row counts, NaN and Inf, binary cross-entropy's target range —
// and splits off the validation rows.
func (r *run) setData(train, val Set) error {
	inW, outW := r.m.InputWidth(), r.m.OutputWidth()
	auto := func(s Set, what string) (Data, Data, error) {
		if s.Y != nil {
			return s.X, s.Y, nil
		}
		if inW != outW {
			return nil, nil, fmt.Errorf("%w: no %s given and the model's output width %d differs from its input width %d", ErrData, what, outW, inW)
		}
		return s.X, s.X, nil
	}
	if train.X == nil {
		return fmt.Errorf("%w: no training data", ErrData)
	}
	var err error
	if r.x, r.y, err = auto(train, "target"); err != nil {
		return err
	}
	var sc scanner
	n := r.x.Rows()
	if err := r.checkPair(&sc, r.x, r.y, "data", "target", -1, inW, outW); err != nil {
		return err
	}
	r.nTrain = n
	switch {
	case val.X != nil:
		if r.vx, r.vy, err = auto(val, "validation target"); err != nil {
			return err
		}
		if err := r.checkPair(&sc, r.vx, r.vy, "validation data", "validation target", -1, inW, outW); err != nil {
			return err
		}
		r.nv = r.vx.Rows()
	case r.cfg.ValidationSplit > 0:
		var err error
		if r.nTrain, r.nv, err = SplitRows(n, r.cfg.ValidationSplit); err != nil {
			return err
		}
		r.vx, r.vy, r.vOff = r.x, r.y, r.nTrain
	}
	return nil
}

// checkPair checks inputs x and targets y: shapes, finite values and,
// for binary cross-entropy, targets in [0, 1].
func (r *run) checkPair(sc *scanner, x, y Data, xWhat, yWhat string, n, inW, outW int) error {
	if err := checkShape(xWhat, x, n, inW); err != nil {
		return err
	}
	n = x.Rows()
	self := sameData(x, y)
	if !self {
		if err := checkShape(yWhat, y, n, outW); err != nil {
			return err
		}
	}
	bce := r.cfg.Loss.IsBinaryCrossentropy() && !r.cfg.AllowUnscaledTargets
	if self && bce {
		return sc.checkFiniteInRange(xWhat, x, 0, n)
	}
	if err := sc.checkFinite(xWhat, x, 0, n); err != nil {
		return err
	}
	if !self {
		if err := sc.checkFinite(yWhat, y, 0, n); err != nil {
			return err
		}
	}
	if bce {
		return sc.checkTargetRange(yWhat, y, 0, n)
	}
	return nil
}

// SplitRows returns how many of n rows train and how many validate with
// Keras's validation_split: rows from floor(n·(1−split)) on validate, the
// ones before train. Both must be at least 1 (ErrConfig otherwise); split
// 0 gives n and 0.
func SplitRows(n int, split float64) (nTrain, nVal int, err error) {
	if split == 0 {
		return n, 0, nil
	}
	nTrain = int(math.Floor(float64(n) * (1 - split)))
	nVal = n - nTrain
	if nTrain < 1 || nVal < 1 {
		return 0, 0, fmt.Errorf("%w: validation split %g of %d rows leaves %d training and %d validation rows", ErrConfig, split, n, nTrain, nVal)
	}
	return nTrain, nVal, nil
}

// close releases the run's threads and the data's memory.
func (r *run) close() {
	r.nt.close()
	for _, d := range []Data{r.x, r.y, r.vx, r.vy} {
		if rl, ok := d.(Releaser); ok {
			rl.Release()
		}
	}
}

// epoch runs the epoch r.st.epoch (or the rest of it, when resumed in the
// middle), validates, records the history, runs early stopping and
// writes the checkpoint; it reports whether early stopping ends training.
func (r *run) epoch() (stop bool, err error) {
	cfg, st := &r.cfg, &r.st
	epochStart := time.Now()
	if st.batch == 0 {
		st.rngAtEpoch, _ = r.pcg.MarshalBinary()
		st.lossSum, st.samples, st.seconds = 0, 0, 0
	} else if err := r.pcg.UnmarshalBinary(st.rngAtEpoch); err != nil {
		return false, fmt.Errorf("%w: generator state: %w", ErrCheckpoint, err)
	}
	var idx []int
	if !cfg.NoShuffle {
		for i := range r.perm {
			r.perm[i] = i
		}
		order.Shuffle(r.rng, r.perm)
		idx = r.perm
	}
	for ; st.batch < r.batches; st.batch++ {
		if err := r.step(idx, epochStart); err != nil {
			return false, err
		}
	}
	trainLoss := st.lossSum / float64(st.samples)
	valLoss := math.NaN()
	if r.nv > 0 {
		if valLoss, err = r.nt.evaluate(r.vx, r.vy, r.vOff, r.nv, cfg.BatchSize); err != nil {
			return false, err
		}
	}
	secs := st.seconds + time.Since(epochStart).Seconds()
	h := r.hist
	h.Epoch = append(h.Epoch, st.epoch)
	h.Loss = append(h.Loss, trainLoss)
	if r.nv > 0 {
		h.ValLoss = append(h.ValLoss, valLoss)
	}
	h.Seconds = append(h.Seconds, secs)
	st.batch = 0
	if es := cfg.EarlyStopping; es != nil {
		cur := trainLoss
		if r.monitorVal {
			cur = valLoss
		}
		stop = st.es.step(es, cur, st.epoch, r.nt.params)
		h.BestEpoch = st.es.BestEpoch
		if stop {
			h.StoppedEpoch = st.epoch
		}
	}
	if cfg.OnEpoch != nil {
		cfg.OnEpoch(EpochLog{Epoch: st.epoch, Epochs: cfg.Epochs, Steps: r.batches, Loss: trainLoss, ValLoss: valLoss, Seconds: secs})
	}
	st.epoch++
	for _, d := range []Data{r.x, r.y, r.vx, r.vy} {
		if rl, ok := d.(Releaser); ok {
			rl.Release()
		}
	}
	if err := r.save(fmt.Sprintf("after epoch %d", st.epoch)); err != nil {
		return false, err
	}
	return stop, nil
}

// step trains on batch r.st.batch of the epoch (rows in the order idx,
// or in data order when idx is nil) and handles a cancelled context.
func (r *run) step(idx []int, epochStart time.Time) error {
	cfg, st := &r.cfg, &r.st
	start := st.batch * cfg.BatchSize
	rows := min(cfg.BatchSize, r.nTrain-start)
	r.nt.arm(cfg.Optimizer, cfg.Optimizer.consts(st.iter), r.slots)
	r.nt.iter = st.iter
	loss, err := r.nt.batch(r.x, r.y, idx, start, rows, true)
	if err != nil {
		return err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Errorf("%w: loss %g at epoch %d/%d, batch %d/%d (weights are those before this batch)",
			ErrNaNLoss, loss, st.epoch+1, cfg.Epochs, st.batch+1, r.batches)
	}
	st.iter++
	st.lossSum += loss * float64(rows)
	st.samples += rows
	if cfg.OnBatch != nil {
		cfg.OnBatch(BatchLog{Epoch: st.epoch, Epochs: cfg.Epochs, Batch: st.batch, Batches: r.batches,
			Loss: st.lossSum / float64(st.samples), Samples: st.samples, Total: r.nTrain,
			Elapsed: st.seconds + time.Since(epochStart).Seconds(), Iterations: st.iter, BatchLoss: loss,
			ValidationSplit: r.nv > 0})
	}
	if r.ctx.Err() != nil {
		st.batch++
		st.seconds += time.Since(epochStart).Seconds()
		if err := r.save("on interrupt"); err != nil {
			return err
		}
		return fmt.Errorf("%w at epoch %d/%d after batch %d/%d: %w", ErrInterrupted, st.epoch+1, cfg.Epochs, st.batch, r.batches, context.Cause(r.ctx))
	}
	return nil
}

// save writes the checkpoint, if the run has one.
func (r *run) save(cause string) error {
	if r.cfg.CheckpointPath == "" {
		return nil
	}
	ck := newCheckpoint(r.m, &r.cfg, r.slots, r.hist, &r.st, r.pcg, r.fp, r.valRows())
	if err := WriteCheckpointFile(r.cfg.CheckpointPath, ck); err != nil {
		return fmt.Errorf("train: writing checkpoint %s: %w", cause, err)
	}
	return nil
}

// valRows is the number of rows of separate validation data (0 with a
// validation split or none).
func (r *run) valRows() int {
	if r.vOff > 0 {
		return 0
	}
	return r.nv
}

// finish ends a run that was not stopped by an error: Keras 3 (and
// tf-keras 2.21) restore the best weights when training ends, whether it
// stopped early or ran all its epochs.
func (r *run) finish() {
	if es := r.cfg.EarlyStopping; es != nil && es.RestoreBestWeights && r.st.es.BestWeights != nil {
		copy(r.nt.params, r.st.es.BestWeights)
	}
}

// step is Keras's EarlyStopping.on_epoch_end; it reports whether to stop.
func (s *esState) step(es *EarlyStopping, cur float64, epoch int, params []float32) bool {
	if es.RestoreBestWeights && s.BestWeights == nil {
		s.BestWeights = append([]float32(nil), params...)
	}
	s.Wait++
	if cur+math.Abs(es.MinDelta) < s.Best {
		s.Best, s.BestEpoch, s.Wait = cur, epoch, 0
		if es.RestoreBestWeights {
			copy(s.BestWeights, params)
		}
		return false
	}
	return s.Wait >= es.Patience && epoch > 0
}

// newSlots returns o's state vectors for nt's weights, each filled with
// its initial value, from nt's arena.
func (nt *net) newSlots(o Optimizer) [][]float32 {
	initial := o.slots()
	slots := make([][]float32, len(initial))
	for i, v := range initial {
		slots[i] = nt.arena.Float32s(len(nt.params))
		fill(slots[i], v)
	}
	return slots
}

// evaluate returns the mean loss over rows lo..lo+n of x and y in batches
// of batchSize, each batch's mean weighted by its rows.
func (nt *net) evaluate(x, y Data, lo, n, batchSize int) (float64, error) {
	bs := min(batchSize, nt.maxB)
	var sum float64
	for start := 0; start < n; start += bs {
		rows := min(bs, n-start)
		loss, err := nt.batch(x, y, nil, lo+start, rows, false)
		if err != nil {
			return 0, err
		}
		sum += loss * float64(rows)
	}
	return sum / float64(n), nil
}

// Validate checks the configuration: epochs, batch size, initial epoch,
// validation split, loss, early stopping and the optimizer's settings
// (nil means Adam). Errors wrap ErrConfig (ErrLoss for an unknown loss,
// the optimizer's own errors for its settings).
func (cfg *Config) Validate() error {
	bad := func(field string, err error) error { return &ConfigError{Field: field, Err: err} }
	switch {
	case cfg.Epochs < 1:
		return bad("Epochs", fmt.Errorf("%w: epochs %d < 1", ErrConfig, cfg.Epochs))
	case cfg.BatchSize < 1:
		return bad("BatchSize", fmt.Errorf("%w: batch size %d < 1", ErrConfig, cfg.BatchSize))
	case cfg.InitialEpoch < 0 || cfg.InitialEpoch >= cfg.Epochs:
		return bad("InitialEpoch", fmt.Errorf("%w: initial epoch %d outside [0, %d)", ErrConfig, cfg.InitialEpoch, cfg.Epochs))
	case !(cfg.ValidationSplit >= 0 && cfg.ValidationSplit < 1):
		return bad("ValidationSplit", fmt.Errorf("%w: validation split %g outside [0, 1)", ErrConfig, cfg.ValidationSplit))
	case cfg.Loss >= numLosses:
		return bad("Loss", fmt.Errorf("%w: %v", ErrLoss, cfg.Loss))
	case cfg.EarlyStopping != nil && cfg.EarlyStopping.Patience < 0:
		return bad("EarlyStopping", fmt.Errorf("%w: early-stopping patience %d < 0", ErrConfig, cfg.EarlyStopping.Patience))
	}
	if cfg.Optimizer != nil {
		if err := cfg.Optimizer.Validate(); err != nil {
			return bad("Optimizer", err)
		}
	}
	return nil
}

// ConfigError is the error Config.Validate returns: the field at fault
// and the error, which wraps ErrConfig (ErrLoss for Loss; the
// optimizer's own error for Optimizer).
type ConfigError struct {
	Field string // the Config field, such as "BatchSize"
	Err   error
}

// Error returns the message of Err.
func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *ConfigError) Unwrap() error { return e.Err }

// withDefaults returns cfg with its zero values resolved: Adam for a nil
// Optimizer, all CPUs for Threads ≤ 0.
func (cfg Config) withDefaults() Config {
	if cfg.Optimizer == nil {
		cfg.Optimizer = &Adam{}
	}
	cfg.Threads = threads(cfg.Threads)
	return cfg
}

// threads resolves a thread count: t ≤ 0 means all CPUs.
func threads(t int) int {
	if t <= 0 {
		return goruntime.GOMAXPROCS(0)
	}
	return t
}

// Evaluate returns the loss of m on n rows of x against y (nil means x),
// computed in batches of batchSize rows (Keras's evaluate): the mean of
// the batch losses weighted by batch size. Dropout and noise layers pass
// values through, as in inference. It does not change m.
func Evaluate(m *runtime.Model, x, y []float32, n int, loss Loss, batchSize int) (float64, error) {
	if batchSize < 1 {
		return 0, fmt.Errorf("%w: batch size %d < 1", ErrConfig, batchSize)
	}
	if loss >= numLosses {
		return 0, fmt.Errorf("%w: %v", ErrLoss, loss)
	}
	if err := m.Validate(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if y == nil {
		y = x
	}
	xd, yd := &sliceData{x: x, width: m.InputWidth()}, &sliceData{x: y, width: m.OutputWidth()}
	if err := checkSlice("data", xd, n); err != nil {
		return 0, err
	}
	if err := checkSlice("target", yd, n); err != nil {
		return 0, err
	}
	if err := checkSize(m, min(batchSize, n), 2); err != nil {
		return 0, err
	}
	// Work on a copy of the layers so m's slices are not repointed.
	cp, err := inferenceClone(m)
	if err != nil {
		return 0, err
	}
	nt, err := newNet(cp, loss, min(batchSize, n), 1)
	if err != nil {
		return 0, err
	}
	defer nt.close()
	return nt.evaluate(xd, yd, 0, n, batchSize)
}

// permutations is order.Permutations, for tests.
func permutations(seed uint64, n, epochs int) [][]int { return order.Permutations(seed, n, epochs) }
