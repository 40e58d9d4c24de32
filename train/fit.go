package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/aekit/aekit/runtime"
)

// Config configures Fit. Epochs and BatchSize are required; the other zero
// values mean: Adam with Keras defaults, binary cross-entropy, no
// shuffling, seed 0, no validation, one thread, no early stopping, no
// checkpoint.
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
	// Shuffle reorders the training rows before every epoch, as Keras's
	// shuffle=True (its default). The order comes from a PCG generator
	// seeded with Seed, not from Keras's generator.
	Shuffle bool
	// Seed seeds the shuffling generator.
	Seed uint64
	// ValidationSplit in [0, 1) holds out the last fraction of the rows,
	// taken before shuffling as Keras does: rows from
	// floor(n·(1−ValidationSplit)) on. Ignored when ValX is set.
	ValidationSplit float64
	// ValX and ValY are separate validation data (Keras's
	// validation_data), ValN rows; ValY nil means ValX (an autoencoder).
	ValX, ValY []float32
	ValN       int
	// Threads is the number of goroutines a step uses; < 1 means 1. The
	// weights and history are bit-identical for the same Seed whatever
	// Threads is: every matrix product is cut into the same blocks of 128
	// rows (or columns) for any thread count, and no sum depends on the
	// split (TestThreadsIdentical). At batch 256 the products over batch
	// rows therefore use at most 2 threads (see the package doc).
	Threads int
	// Mapped declares that x, y, ValX and ValY may be read-only memory
	// maps of files, such as the Data of an npy.Map, possibly larger
	// than memory, and keeps little of them resident: Fit reads shuffled
	// rows from the mapped file with pread where it can open it again
	// (the same file: device and inode), and whenever the process's
	// resident file-backed memory passes 256 MiB after a batch or a
	// 16 MiB chunk of its scans (NaN check, checkpoint fingerprint),
	// tells the operating system that it no longer needs the data's
	// pages (Linux: madvise MADV_DONTNEED; they stay in the page cache
	// while memory allows). Results are the same as with the data in
	// memory (TestFitMapped). Slices that are not inside a read-only
	// file mapping (checked in /proc/self/maps) are left alone: the
	// advice would zero Go memory. Elsewhere than on Linux Mapped does
	// nothing.
	Mapped bool
	// EarlyStopping, when not nil, stops training when the monitored loss
	// stops improving.
	EarlyStopping *EarlyStopping
	// CheckpointPath, when set, names a file written atomically after
	// every epoch and when the context is cancelled; see Checkpoint.
	CheckpointPath string
	// Resume, when not nil, continues the run saved in a checkpoint:
	// weights, optimizer state, generator state, epoch and batch,
	// history and early-stopping state. The model must have the same
	// layers as Resume.Model, and the data, BatchSize, Shuffle, Seed,
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

// Fit trains m in place on n rows of x (InputWidth values each) against
// targets y (OutputWidth values each; nil means y = x, an autoencoder),
// with Keras's fit semantics, and returns the history. Dense layers'
// Kernel and Bias are replaced by views of one contiguous buffer holding
// the trained values, so m goes straight to runtime Predict or a writer.
//
// Fit checks everything before training: data lengths and widths (ErrData),
// NaN or Inf values (ErrNonFinite, naming the first bad row), the
// configuration (ErrConfig, including the optimizer's settings and a batch
// whose buffers would pass MaxValues), the model (ErrModel, including one
// too large for MaxValues). A non-finite batch loss
// stops training with ErrNaNLoss before that batch's update. When ctx is
// cancelled Fit stops after the current batch, writes the checkpoint if
// CheckpointPath is set, and returns the history so far with an error
// wrapping ErrInterrupted.
//
// With Config.Mapped, a memory fault while reading the data — its file
// truncated or replaced while mapped — is an error wrapping ErrData that
// names the file, not a crash; the last checkpoint is left as it was.
func Fit(ctx context.Context, m *runtime.Model, x, y []float32, n int, cfg Config) (h *History, err error) {
	if !cfg.Mapped {
		return fit(ctx, m, x, y, n, cfg)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		fault, ok := r.(interface{ Addr() uintptr })
		if !ok {
			panic(r)
		}
		name := mappedPath(fault.Addr())
		if name == "" {
			name = "the mapped data"
		}
		h, err = nil, fmt.Errorf("%w: reading %s: memory fault at %#x: the file was truncated or changed during training (mapped data must not change while a run reads it)", ErrData, name, fault.Addr())
	}()
	return fit(ctx, m, x, y, n, cfg)
}

func fit(ctx context.Context, m *runtime.Model, x, y []float32, n int, cfg Config) (*History, error) {
	if cfg.Optimizer == nil {
		cfg.Optimizer = &Adam{}
	}
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	inW, outW := m.InputWidth(), m.OutputWidth()
	if y == nil {
		if inW != outW {
			return nil, fmt.Errorf("%w: no target given and the model's output width %d differs from its input width %d", ErrData, outW, inW)
		}
		y = x
	}
	pg := newPager(cfg.Mapped, x, y, cfg.ValX, cfg.ValY)
	defer pg.close()
	if err := checkData("data", x, n, inW, pg); err != nil {
		return nil, err
	}
	if !sameData(x, y) {
		if err := checkData("target", y, n, outW, pg); err != nil {
			return nil, err
		}
	} else if len(x) != n*outW {
		return nil, fmt.Errorf("%w: target has %d values, not %d rows of width %d", ErrData, len(y), n, outW)
	}
	if cfg.Loss.IsBinaryCrossentropy() && !cfg.AllowUnscaledTargets {
		what := "target"
		if sameData(x, y) {
			what = "data"
		}
		if err := checkTargetRange(what, y, outW, pg); err != nil {
			return nil, err
		}
	}
	var vx, vy []float32
	var nv int
	nTrain := n
	if cfg.ValX != nil {
		vx, vy, nv = cfg.ValX, cfg.ValY, cfg.ValN
		if vy == nil {
			if inW != outW {
				return nil, fmt.Errorf("%w: no validation target given and the model's output width %d differs from its input width %d", ErrData, outW, inW)
			}
			vy = vx
		}
		if err := checkData("validation data", vx, nv, inW, pg); err != nil {
			return nil, err
		}
		if !sameData(vx, vy) || inW != outW {
			if err := checkData("validation target", vy, nv, outW, pg); err != nil {
				return nil, err
			}
		}
		if cfg.Loss.IsBinaryCrossentropy() && !cfg.AllowUnscaledTargets {
			what := "validation target"
			if sameData(vx, vy) {
				what = "validation data"
			}
			if err := checkTargetRange(what, vy, outW, pg); err != nil {
				return nil, err
			}
		}
	} else if cfg.ValidationSplit > 0 {
		nTrain = int(math.Floor(float64(n) * (1 - cfg.ValidationSplit)))
		nv = n - nTrain
		if nTrain < 1 || nv < 1 {
			return nil, fmt.Errorf("%w: validation split %g of %d rows leaves %d training and %d validation rows", ErrConfig, cfg.ValidationSplit, n, nTrain, nv)
		}
		vx, vy = x[nTrain*inW:n*inW], y[nTrain*outW:n*outW]
	}
	x, y = x[:nTrain*inW], y[:nTrain*outW]

	maxB := min(cfg.BatchSize, max(nTrain, nv))
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
	nt.pg = pg
	defer nt.close()

	slots := newSlots(cfg.Optimizer, len(nt.params))
	hist := &History{StoppedEpoch: -1, BestEpoch: -1}
	st := runState{epoch: cfg.InitialEpoch, es: esState{Best: math.Inf(1), BestEpoch: -1}}
	rng, pcg := newRand(cfg.Seed, streamShuffle)
	var fp DataFingerprint
	if cfg.CheckpointPath != "" || cfg.Resume != nil {
		fp = fingerprint(x, y, vx, vy, nTrain, nv, pg)
	}
	if ck := cfg.Resume; ck != nil {
		if err := ck.restore(&cfg, nt, slots, hist, &st, pcg, fp); err != nil {
			return nil, err
		}
	}
	monitorVal := nv > 0
	if es := cfg.EarlyStopping; es != nil && es.Monitor != "" {
		switch es.Monitor {
		case "loss":
			monitorVal = false
		case "val_loss":
			if nv == 0 {
				return nil, fmt.Errorf("%w: early stopping monitors val_loss but there is no validation data", ErrConfig)
			}
		default:
			return nil, fmt.Errorf("%w: early stopping monitor %q (valid: loss, val_loss)", ErrConfig, es.Monitor)
		}
	}

	perm := make([]int, nTrain)
	batches := (nTrain + cfg.BatchSize - 1) / cfg.BatchSize
	save := func(cause string) error {
		if cfg.CheckpointPath == "" {
			return nil
		}
		ck := newCheckpoint(m, &cfg, nt, slots, hist, &st, pcg, fp)
		if err := WriteCheckpointFile(cfg.CheckpointPath, ck); err != nil {
			return fmt.Errorf("train: writing checkpoint %s: %w", cause, err)
		}
		return nil
	}

	for st.epoch < cfg.Epochs {
		epochStart := time.Now()
		if st.batch == 0 {
			st.rngAtEpoch, _ = pcg.MarshalBinary()
			st.lossSum, st.samples, st.seconds = 0, 0, 0
		} else if err := pcg.UnmarshalBinary(st.rngAtEpoch); err != nil {
			return nil, fmt.Errorf("%w: generator state: %w", ErrCheckpoint, err)
		}
		var idx []int
		if cfg.Shuffle {
			for i := range perm {
				perm[i] = i
			}
			shuffle(rng, perm)
			idx = perm
		}
		for ; st.batch < batches; st.batch++ {
			start := st.batch * cfg.BatchSize
			rows := min(cfg.BatchSize, nTrain-start)
			nt.arm(cfg.Optimizer, cfg.Optimizer.consts(st.iter), slots)
			loss := nt.batch(x, y, idx, start, rows, true)
			pg.add(nt.readBytes(rows))
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return hist, fmt.Errorf("%w: loss %g at epoch %d/%d, batch %d/%d (weights are those before this batch)",
					ErrNaNLoss, loss, st.epoch+1, cfg.Epochs, st.batch+1, batches)
			}
			st.iter++
			st.lossSum += loss * float64(rows)
			st.samples += rows
			if cfg.OnBatch != nil {
				cfg.OnBatch(BatchLog{Epoch: st.epoch, Epochs: cfg.Epochs, Batch: st.batch, Batches: batches,
					Loss: st.lossSum / float64(st.samples), Samples: st.samples, Total: nTrain,
					Elapsed: st.seconds + time.Since(epochStart).Seconds(), Iterations: st.iter, BatchLoss: loss,
					ValidationSplit: nv > 0})
			}
			if ctx.Err() != nil {
				st.batch++
				st.seconds += time.Since(epochStart).Seconds()
				if err := save("on interrupt"); err != nil {
					return hist, err
				}
				return hist, fmt.Errorf("%w at epoch %d/%d after batch %d/%d: %w", ErrInterrupted, st.epoch+1, cfg.Epochs, st.batch, batches, context.Cause(ctx))
			}
		}
		trainLoss := st.lossSum / float64(st.samples)
		valLoss := math.NaN()
		if nv > 0 {
			valLoss = nt.evaluate(vx, vy, nv, cfg.BatchSize)
		}
		secs := st.seconds + time.Since(epochStart).Seconds()
		hist.Epoch = append(hist.Epoch, st.epoch)
		hist.Loss = append(hist.Loss, trainLoss)
		if nv > 0 {
			hist.ValLoss = append(hist.ValLoss, valLoss)
		}
		hist.Seconds = append(hist.Seconds, secs)
		st.batch = 0
		stop := false
		if es := cfg.EarlyStopping; es != nil {
			cur := trainLoss
			if monitorVal {
				cur = valLoss
			}
			stop = st.es.step(es, cur, st.epoch, nt.params)
			hist.BestEpoch = st.es.BestEpoch
			if stop {
				hist.StoppedEpoch = st.epoch
			}
		}
		if cfg.OnEpoch != nil {
			cfg.OnEpoch(EpochLog{Epoch: st.epoch, Epochs: cfg.Epochs, Steps: batches, Loss: trainLoss, ValLoss: valLoss, Seconds: secs})
		}
		st.epoch++
		if err := save(fmt.Sprintf("after epoch %d", st.epoch)); err != nil {
			return hist, err
		}
		if stop {
			break
		}
	}
	// Keras 3 (and tf-keras 2.21) restore the best weights when training
	// ends, whether it stopped early or ran all its epochs.
	if es := cfg.EarlyStopping; es != nil && es.RestoreBestWeights && st.es.BestWeights != nil {
		copy(nt.params, st.es.BestWeights)
	}
	return hist, nil
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

// newSlots returns o's state vectors for n weights, each filled with its
// initial value.
func newSlots(o Optimizer, n int) [][]float32 {
	initial := o.slots()
	slots := make([][]float32, len(initial))
	for i, v := range initial {
		slots[i] = make([]float32, n)
		fill(slots[i], v)
	}
	return slots
}

// evaluate returns the mean loss over n rows in batches of batchSize,
// each batch's mean weighted by its rows.
func (nt *net) evaluate(x, y []float32, n, batchSize int) float64 {
	bs := min(batchSize, nt.maxB)
	var sum float64
	for start := 0; start < n; start += bs {
		rows := min(bs, n-start)
		sum += nt.batch(x, y, nil, start, rows, false) * float64(rows)
		nt.pg.add(nt.readBytes(rows))
	}
	return sum / float64(n)
}

// shuffle is a Fisher–Yates shuffle driven by r.
func shuffle(r *rand.Rand, p []int) {
	for i := len(p) - 1; i > 0; i-- {
		j := int(r.Uint64N(uint64(i + 1)))
		p[i], p[j] = p[j], p[i]
	}
}

func checkConfig(cfg *Config) error {
	switch {
	case cfg.Epochs < 1:
		return fmt.Errorf("%w: epochs %d < 1", ErrConfig, cfg.Epochs)
	case cfg.BatchSize < 1:
		return fmt.Errorf("%w: batch size %d < 1", ErrConfig, cfg.BatchSize)
	case cfg.InitialEpoch < 0 || cfg.InitialEpoch >= cfg.Epochs:
		return fmt.Errorf("%w: initial epoch %d outside [0, %d)", ErrConfig, cfg.InitialEpoch, cfg.Epochs)
	case !(cfg.ValidationSplit >= 0 && cfg.ValidationSplit < 1):
		return fmt.Errorf("%w: validation split %g outside [0, 1)", ErrConfig, cfg.ValidationSplit)
	case cfg.Loss >= numLosses:
		return fmt.Errorf("%w: %v", ErrLoss, cfg.Loss)
	case cfg.EarlyStopping != nil && cfg.EarlyStopping.Patience < 0:
		return fmt.Errorf("%w: early-stopping patience %d < 0", ErrConfig, cfg.EarlyStopping.Patience)
	}
	if err := cfg.Optimizer.Validate(); err != nil {
		return err
	}
	if cfg.Threads < 1 {
		cfg.Threads = 1
	}
	return nil
}

// sameData reports whether a and b are the same slice.
func sameData(a, b []float32) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// checkData checks that a holds n rows of width values, all finite,
// reading them in chunks counted by pg.
func checkData(what string, a []float32, n, width int, pg *pager) error {
	if n < 1 {
		return fmt.Errorf("%w: %s has %d rows", ErrData, what, n)
	}
	if len(a) != n*width {
		if len(a)%width == 0 {
			return fmt.Errorf("%w: %s has %d rows of width %d, want %d rows", ErrData, what, len(a)/width, width, n)
		}
		return fmt.Errorf("%w: %s has %d values, not %d rows of width %d", ErrData, what, len(a), n, width)
	}
	var err error
	pg.scan(a, width, func(off int, chunk []float32) bool {
		if r, c, ok := FirstNonFinite(chunk, width); ok {
			r += off / width
			err = fmt.Errorf("%w: %s row %d column %d is %g", ErrNonFinite, what, r, c, a[r*width+c])
			return false
		}
		return true
	})
	return err
}

// checkTargetRange checks that the targets a, rows of width values, lie in
// [0, 1], reading them in chunks counted by pg; it returns a
// *TargetRangeError for the first that does not.
func checkTargetRange(what string, a []float32, width int, pg *pager) error {
	var err error
	pg.scan(a, width, func(off int, chunk []float32) bool {
		for i, v := range chunk {
			if !(v >= 0 && v <= 1) {
				k := off + i
				err = &TargetRangeError{What: what, Row: k / width, Col: k % width, Value: v}
				return false
			}
		}
		return true
	})
	return err
}

// FirstNonFinite returns the row and column of the first NaN or ±Inf in a,
// read as rows of width values, and whether there is one.
func FirstNonFinite(a []float32, width int) (row, col int, ok bool) {
	for i, v := range a {
		if v-v != 0 { // NaN or ±Inf
			return i / width, i % width, true
		}
	}
	return 0, 0, false
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
	if err := checkData("data", x, n, m.InputWidth(), nil); err != nil {
		return 0, err
	}
	if err := checkData("target", y, n, m.OutputWidth(), nil); err != nil {
		return 0, err
	}
	if err := checkSize(m, min(batchSize, n), 2); err != nil {
		return 0, err
	}
	// Work on a copy of the layers so m's slices are not repointed.
	cp := inferenceClone(m)
	nt, err := newNet(cp, loss, min(batchSize, n), 1)
	if err != nil {
		return 0, err
	}
	defer nt.close()
	return nt.evaluate(x, y, n, batchSize), nil
}

// Permutations returns the order in which Fit visits n training rows in
// each of the given number of epochs when Shuffle is set and Seed is seed
// (and the run starts at epoch 0), so that another implementation can
// train on the same batches.
func Permutations(seed uint64, n, epochs int) [][]int {
	rng, _ := newRand(seed, streamShuffle)
	out := make([][]int, epochs)
	for e := range out {
		p := make([]int, n)
		for i := range p {
			p[i] = i
		}
		shuffle(rng, p)
		out[e] = p
	}
	return out
}
