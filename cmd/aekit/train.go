package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aekit/aekit/dataset"
	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/npy"
	aert "github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

const trainSynopsis = `--data X.npy [--target Y.npy] (--layers SPEC | --arch A.json | --init-from MODEL | --resume CKPT) -o OUT.{keras,h5,onnx} [flags]

Trains a Dense model with Keras semantics (see package train): Keras's Adam,
SGD, RMSprop and Adagrad formulas and defaults, binary cross-entropy from the
logits after a sigmoid output (on other outputs as the Keras version that
wrote --init-from or --arch computes it: Keras 1 and 2 add 1e-7 inside the
logarithms, Keras 3 does not), mean over features then batch, the last batch of
an epoch kept, shuffling every epoch, validation split taken from the last rows
before shuffling.

Data: .npy/.npz with one sample per row ((n, 784) or (n, 28, 28) images are
flattened). uint8 data (e.g. raw pixels) is divided by 255, as the Keras
examples do; other dtypes are used as they are. Without --target the target is
the input (an autoencoder). NaN or Inf in any data is an error naming the row.

SPEC (--layers) lists the layers after the input as units:activation, with |
between encoder and decoder, e.g. "32:relu|784:sigmoid" or
"10:relu,10:relu|100:sigmoid,100:sigmoid"; without | the encoder ends at the
narrowest layer. The input width comes from the data. A Dense layer takes
options after its activation: regularisers as Keras's L1/L2/L1L2 (l1=X, l2=X
on the kernel, bias_l1=X, bias_l2=X on the bias, act_l1=X, act_l2=X on the
output: activity_regularizer) and noise layers after it (dropout=R,
gaussian=S, gaussian_dropout=R, alpha_dropout=R), which act only while
training, e.g. the Keras blog's sparse autoencoder "32:relu:act_l1=1e-4|784:sigmoid"
or "64:relu:dropout=0.2,32:relu|784:sigmoid". A noise layer may also be an
item of its own ("gaussian=0.1,32:relu|784:sigmoid"); --noise KIND=V puts one
before the first layer: a denoising autoencoder (noisy input, clean target).
Losses include the regularisers, as Keras reports them.
bn and ln, after a Dense layer's activation or as items, add a
BatchNormalization or LayerNormalization with Keras's defaults (momentum 0.99,
epsilon 1e-3), trained as Keras trains them (batch statistics, moving
averages), e.g. "64:relu:bn,32:relu:bn|64:relu,784:sigmoid".

Data larger than memory: float32 .npy files in C order (what numpy writes for
float32 arrays) are memory-mapped instead of read when --mmap is given, and
automatically when a file is larger than 1 GiB (--mmap=false turns that off).
Rows are then read from the file batch by batch with pread, in shuffled order
by index, so no page of the mapping becomes resident: one epoch on a 4.4 GB
file peaked at 59 MB resident; results are identical to loading the file.
Other .npy files (uint8,
float64, Fortran order) and .npz archives cannot be mapped: --mmap then fails,
the automatic choice reads them into memory.

Output (--verbose 1, the default): each finished epoch on standard output as
Keras 2 prints it,
  Epoch 3/50
  235/235 - 1s 4ms/step - loss: 0.3012 - val_loss: 0.3050
and a live progress bar with ETA on standard error when it is a terminal.
--verbose 2 prints one line per epoch and no bar,
  Epoch 3/50 - 235/235 - 1s 4ms/step - loss: 0.3012 - val_loss: 0.3050
--verbose 0 (or --quiet) prints no epoch log.
A checkpoint is written atomically after every epoch, to OUT.ckpt unless
--checkpoint names another file (--no-checkpoint: none); Ctrl-C stops after the
current batch, writes it and prints the command that resumes the run exactly
(optimizer state, shuffling and epoch count). When the run succeeds the
default OUT.ckpt is removed; a file named with --checkpoint is kept (to resume
later with more --epochs). aekit inspect CKPT describes a checkpoint.

Outputs (-o, the checkpoint, --history, --plot, --recon) are
checked before any data is read: their folders must exist, no two may name the
same file or an input, and each must be absent or a regular file. A symbolic
link, named pipe or device is refused, never replaced or written through (give
the real path). Temporary checkpoint files left by a killed run are removed.

Limits: --threads at most 4 per CPU. Input files must be regular files (not
pipes or devices); decompressed sizes, layer and parameter counts of the inputs
are bounded (see aekit inspect --help; AEKIT_LIMITS raises them).

Exit status: 0 trained and saved; 1 training failed (loss became NaN or Inf:
the message names the epoch and batch, the checkpoint of the last good epoch is
kept, no model is written) or was interrupted; 2 usage or input error.`

// trainFlags are the parsed flags of aekit train.
type trainFlags struct {
	data, target, layers, arch, initFrom, init   string
	noise                                        string
	optimizer, loss, out, history, plot, recon   string
	resume, checkpoint, valData, valTarget       string
	lr, momentum, valSplit, decayRate            float64
	epochs, batch, patience, threads, decaySteps int
	verbose                                      int
	asJSON                                       bool
	quiet                                        bool
	seed                                         uint64
	kerasSeed                                    int64
	noShuffle, restoreBest, staircase, nesterov  bool
	mmap, allowUnscaled, noCheckpoint            bool
	score                                        string
	names                                        tensorNames
	set                                          map[string]bool
}

func cmdTrain(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmdTrainContext(ctx, args, stdout, stderr)
}

// define defines the flags of aekit train on fs, parsed into f.
func (f *trainFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "", "training inputs `X.npy` (required)")
	fs.StringVar(&f.target, "target", "", "training targets `Y.npy` (default: the inputs)")
	fs.StringVar(&f.layers, "layers", "", "build a new model from `SPEC`, e.g. \"32:relu|784:sigmoid\" or \"64:relu:l1=1e-5,32:relu:dropout=0.2|784:sigmoid\" (see SPEC below)")
	fs.StringVar(&f.noise, "noise", "", "with --layers, corrupt the inputs while training (a denoising autoencoder: noisy input, clean target): `KIND=V`, one of gaussian=STDDEV, dropout=RATE, gaussian_dropout=RATE, alpha_dropout=RATE (comma-separated for several)")
	fs.StringVar(&f.arch, "arch", "", "Keras architecture `JSON` (model.to_json() or a .keras config.json): alone, a fresh model of that architecture initialised with --init and --seed; with --init-from, the architecture of a weights-only file")
	fs.StringVar(&f.initFrom, "init-from", "", "start from the weights of `MODEL` (.keras, .h5, .onnx)")
	fs.StringVar(&f.init, "init", "glorot_uniform", "kernel `initializer` for --layers: "+strings.Join(train.InitializerNames(), ", "))
	fs.StringVar(&f.optimizer, "optimizer", "adam", "`name`: "+strings.Join(train.OptimizerNames(), ", "))
	fs.Float64Var(&f.lr, "lr", 0, "learning `rate` (0: the optimizer's Keras default: 0.001, sgd 0.01)")
	fs.Float64Var(&f.momentum, "momentum", 0, "momentum of sgd and rmsprop")
	fs.BoolVar(&f.nesterov, "nesterov", false, "Nesterov momentum for sgd")
	fs.Float64Var(&f.decayRate, "lr-decay", 0, "exponential learning-rate decay `factor` per --lr-decay-steps updates")
	fs.IntVar(&f.decaySteps, "lr-decay-steps", 1000, "updates per decay period")
	fs.BoolVar(&f.staircase, "lr-staircase", false, "decay in steps (step decay) instead of continuously")
	fs.StringVar(&f.loss, "loss", "binary_crossentropy", "loss `name`: "+strings.Join(train.LossNames(), ", "))
	fs.IntVar(&f.epochs, "epochs", 50, "number of epochs")
	fs.IntVar(&f.batch, "batch-size", 256, "rows per update")
	fs.BoolVar(&f.noShuffle, "no-shuffle", false, "keep the row order (default: reshuffle every epoch)")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of initialisation and shuffling")
	fs.Int64Var(&f.kerasSeed, "keras-seed", -1, "with --layers or --arch: initialise as Keras 3 on TensorFlow does after keras.utils.set_random_seed(`N`) (N in [0, 2^32); Dense layers created in execution order; bit for bit for the uniform initializers, zeros and ones, within 5e-7 for the normal ones); --seed then only shuffles")
	fs.Float64Var(&f.valSplit, "validation-split", 0, "hold out this `fraction` of the rows (the last ones) for validation")
	fs.StringVar(&f.valData, "validation-data", "", "validation inputs `V.npy`")
	fs.StringVar(&f.valTarget, "validation-target", "", "validation targets `VY.npy` (default: the validation inputs)")
	fs.IntVar(&f.patience, "early-stopping", 0, "stop after `PATIENCE` epochs without improvement of val_loss (loss without validation); 0: off")
	fs.BoolVar(&f.restoreBest, "restore-best-weights", false, "with --early-stopping, keep the best epoch's weights")
	fs.BoolVar(&f.allowUnscaled, "allow-unscaled-targets", false, "train binary cross-entropy on targets outside [0, 1] (refused by default: the loss is then meaningless)")
	fs.IntVar(&f.threads, "threads", 0, "goroutines per step (0: all CPUs); results are bit-identical for any thread count")
	fs.BoolVar(&f.mmap, "mmap", false, "memory-map float32 .npy data instead of reading it, releasing pages as training reads them (default: only files over 1 GiB; --mmap=false: never)")
	fs.IntVar(&f.verbose, "verbose", 1, "`level` of the epoch log, as Keras's verbose: 0 silent, 1 a line per epoch and a live progress bar on terminals, 2 a line per epoch and no bar")
	fs.BoolVar(&f.quiet, "quiet", false, "no epoch log (--verbose 0)")
	fs.BoolVar(&f.asJSON, "json", false, "no epoch log; when the run ends, print a JSON summary on standard output (output, checkpoint kept, epochs, loss, val_loss, seconds per epoch, stopped and best epochs)")
	fs.StringVar(&f.out, "o", "", "output model `OUT` (.keras, .h5 or .onnx), written atomically (required)")
	f.names.add(fs)
	fs.StringVar(&f.history, "history", "", "write the history to `H.csv` (epoch,loss,val_loss,seconds; epoch counts from 1)")
	fs.StringVar(&f.plot, "plot", "", "plot the loss curves to `loss.png`")
	fs.StringVar(&f.recon, "recon", "", "for square images: originals above reconstructions, to `recon.png`")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "keep the checkpoint in `file` (default: OUT.ckpt, removed when the run succeeds; \"\": none)")
	fs.BoolVar(&f.noCheckpoint, "no-checkpoint", false, "write no checkpoint (an interrupted run cannot be resumed)")
	fs.StringVar(&f.resume, "resume", "", "continue the run saved in `CKPT` (give the same --data)")
	fs.StringVar(&f.score, "score", "", scoreFlagHelp)
}

// cmdTrainContext is aekit train, interrupted when ctx is cancelled.
func cmdTrainContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("train", trainSynopsis+vaeHelp, stderr)
	var f trainFlags
	f.define(fs)
	_, code, done := parseCommand(fs, args, 0, 0, stdout, stderr)
	if done {
		return code
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if f.data == "" || f.out == "" {
		fmt.Fprintln(stderr, "aekit train: --data and -o are required")
		fs.Usage()
		return exitUsage
	}
	if err := checkStdin(&f); err != nil {
		return fail(stderr, "train", err)
	}
	if err := checkScoreFlag(f.score, f.out); err != nil {
		return fail(stderr, "train", err)
	}
	if f.verbose < 0 || f.verbose > 2 {
		fmt.Fprintf(stderr, "aekit train: --verbose %d: want 0, 1 or 2\n", f.verbose)
		return exitUsage
	}
	if f.asJSON && f.set["verbose"] && f.verbose != 0 {
		fmt.Fprintf(stderr, "aekit train: --json and --verbose %d contradict each other (--json prints no epoch log)\n", f.verbose)
		return exitUsage
	}
	if f.asJSON {
		f.verbose = 0
	}
	if f.quiet {
		if f.set["verbose"] && f.verbose != 0 {
			fmt.Fprintf(stderr, "aekit train: --quiet and --verbose %d contradict each other\n", f.verbose)
			return exitUsage
		}
		f.verbose = 0
	}
	return runTrain(ctx, &f, stdout, stderr)
}

// newLoader returns the loader of a run's data files: memory-mapped as
// --mmap says (default: dataset.Auto), archives within AEKIT_LIMITS.
func newLoader(f *trainFlags, stderr io.Writer) (*dataLoader, error) {
	lim, err := envLimits()
	if err != nil {
		return nil, err
	}
	opt := &dataset.Options{Limits: &lim.npy, Fallback: func(err error) {
		fmt.Fprintf(stderr, "aekit train: %s; reading it into memory\n", errorLine(err))
	}}
	if f.set["mmap"] {
		opt.Mode = map[bool]dataset.Mode{true: dataset.Map, false: dataset.Read}[f.mmap]
	}
	return &dataLoader{dataset.NewLoader(opt), opt.Mode == dataset.Map}, nil
}

// dataLoader is a dataset.Loader whose errors name --mmap where it
// decided that a file could not be read.
type dataLoader struct {
	*dataset.Loader
	mapAll bool // --mmap
}

// rows is dataset.Loader.Rows.
func (l *dataLoader) rows(name string, width int) (train.Data, error) {
	d, err := l.Rows(name, width)
	return d, l.flagged(err)
}

// targets is dataset.Loader.Targets.
func (l *dataLoader) targets(x train.Data, xName, name string, width int) (train.Data, error) {
	d, err := l.Targets(x, xName, name, width)
	return d, l.flagged(err)
}

// flagged prefixes --mmap to the error of a file --mmap could not map.
func (l *dataLoader) flagged(err error) error {
	if l.mapAll && errors.Is(err, npy.ErrNotMappable) {
		return fmt.Errorf("--mmap: %w", err)
	}
	return err
}

// trainRun is one aekit train run, carried through its stages: flags,
// configuration, loading, training, report.
type trainRun struct {
	f              *trainFlags
	stdout, stderr io.Writer
	ckpt           string // checkpoint file, "" for none
	keepCkpt       bool   // keep it after a successful run
	ld             *dataLoader
	m              *aert.Model
	cfg            train.Config
	data, val      train.Set
	kerasMajor     int               // Keras major version of --init-from or --arch (0: none)
	arch           train.Arch        // --layers and --noise
	init           train.Initializer // --init
}

func runTrain(ctx context.Context, f *trainFlags, stdout, stderr io.Writer) int {
	if train.IsVAESpec(f.layers) {
		return runTrainVAE(ctx, f, stdout, stderr)
	}
	r := &trainRun{f: f, stdout: stdout, stderr: stderr}
	failf := func(err error) int { return fail(stderr, "train", err) }
	if err := r.checkFlags(); err != nil {
		return failf(err)
	}
	var err error
	if r.ld, err = newLoader(f, stderr); err != nil {
		return failf(err)
	}
	defer r.ld.Close()
	if err := r.config(); err != nil {
		return failf(err)
	}
	if err := r.load(); err != nil {
		return failf(err)
	}
	if err := r.ready(); err != nil {
		return failf(err)
	}
	h, err := r.run(ctx)
	if err != nil {
		return r.trainError(err, h)
	}
	if err := r.report(h); err != nil {
		return failf(err)
	}
	return exitOK
}

// checkFlags checks the flags that say where the model comes from and
// where the results go, before anything is read.
func (r *trainRun) checkFlags() error {
	f := r.f
	sources := 0
	for _, s := range []string{f.layers, f.initFrom, f.resume} {
		if s != "" {
			sources++
		}
	}
	if f.arch != "" && f.initFrom == "" {
		sources++
	}
	switch {
	case sources != 1:
		return errors.New("give exactly one of --layers, --arch, --init-from and --resume")
	case f.set["keras-seed"] && f.layers == "" && (f.arch == "" || f.initFrom != ""):
		return errors.New("--keras-seed initialises a new model: use it with --layers or --arch")
	case f.valSplit != 0 && f.valData != "":
		return errors.New("--validation-split and --validation-data are exclusive")
	case f.valTarget != "" && f.valData == "":
		return errors.New("--validation-target needs --validation-data")
	}
	if err := f.checkThreads(); err != nil {
		return err
	}
	var err error
	if r.init, err = train.ParseInitializer(f.init); err != nil {
		return err
	}
	if f.noise != "" && f.layers == "" {
		return errors.New("--noise adds a noise layer to the input of a --layers model; in a Keras architecture add a GaussianNoise or Dropout layer instead")
	}
	if f.layers != "" {
		spec := f.layers
		if f.noise != "" {
			spec = f.noise + "," + spec
		}
		if r.arch, err = train.ParseArch(spec); err != nil {
			return fmt.Errorf("--layers: %w", err)
		}
		if f.noise != "" {
			for _, l := range r.arch.Layers[:strings.Count(f.noise, ",")+1] {
				if l.Kind == train.Dense {
					return fmt.Errorf("--noise %s: want noise layers only (dropout=R, gaussian=S, gaussian_dropout=R, alpha_dropout=R)", f.noise)
				}
			}
		}
	}
	if r.ckpt, r.keepCkpt, err = checkpointPath(f); err != nil {
		return err
	}
	// Every output is checked before anything is read or trained.
	if err := checkOutputs(f, r.ckpt); err != nil {
		return err
	}
	return f.names.check(f.out)
}

// configFlags names the flag of each train.Config field.
var configFlags = map[string]string{"Epochs": "--epochs", "BatchSize": "--batch-size",
	"ValidationSplit": "--validation-split", "EarlyStopping": "--early-stopping", "Loss": "--loss"}

// config builds the run's train.Config from the flags, or from the
// checkpoint with --resume, and validates it (train.Config.Validate),
// naming the flag of a bad setting.
func (r *trainRun) config() error {
	f := r.f
	if f.resume != "" {
		ck, err := train.ReadCheckpointFile(f.resume)
		if err != nil {
			return err
		}
		r.m, r.cfg = ck.Model, ck.Config()
		for _, name := range []string{"optimizer", "lr", "momentum", "nesterov", "loss", "batch-size", "no-shuffle", "seed", "validation-split", "lr-decay", "lr-decay-steps", "lr-staircase", "init"} {
			if f.set[name] {
				return fmt.Errorf("--%s cannot change when resuming; the checkpoint fixes it", name)
			}
		}
		if f.set["epochs"] {
			r.cfg.Epochs = f.epochs
		}
	} else {
		opt, loss, err := f.optimizerLoss()
		if err != nil {
			return err
		}
		r.cfg = train.Config{Optimizer: opt, Loss: loss, Epochs: f.epochs, BatchSize: f.batch,
			NoShuffle: f.noShuffle, Seed: f.seed, ValidationSplit: f.valSplit}
	}
	r.cfg.AllowUnscaledTargets = f.allowUnscaled
	r.cfg.Threads = f.threads
	r.cfg.CheckpointPath = r.ckpt
	if f.patience > 0 {
		r.cfg.EarlyStopping = &train.EarlyStopping{Patience: f.patience, RestoreBestWeights: f.restoreBest}
	}
	return validate(&r.cfg)
}

// validate checks cfg (train.Config.Validate), naming the flag of a bad
// setting.
func validate(cfg *train.Config) error {
	if err := cfg.Validate(); err != nil {
		var ce *train.ConfigError
		if errors.As(err, &ce) && configFlags[ce.Field] != "" {
			return fmt.Errorf("%s: %w", configFlags[ce.Field], err)
		}
		return err
	}
	return nil
}

// checkThreads refuses a negative --threads and more than
// maxThreadsPerCPU per CPU.
func (f *trainFlags) checkThreads() error {
	if f.threads < 0 {
		return fmt.Errorf("--threads %d: %w: want 0 (all CPUs) or more", f.threads, train.ErrConfig)
	}
	return checkThreads(f.threads)
}

// optimizerLoss parses the optimizer and loss flags.
func (f *trainFlags) optimizerLoss() (train.Optimizer, train.Loss, error) {
	opt, err := train.ParseOptimizer(f.optimizer, f.lr)
	if err != nil {
		return nil, 0, err
	}
	if err := setOptimizer(opt, f); err != nil {
		return nil, 0, err
	}
	loss, err := train.ParseLoss(f.loss)
	if err != nil {
		return nil, 0, err
	}
	return opt, loss, nil
}

// load builds, opens or resumes the model and loads the data it trains
// on, checking that widths and row counts agree.
func (r *trainRun) load() error {
	f := r.f
	var err error
	switch {
	case r.m != nil: // resumed
	case f.layers != "":
		if r.data.X, err = r.ld.rows(f.data, 0); err != nil {
			return err
		}
		if r.m, err = train.Build(r.data.X.Width(), r.arch, r.init, f.seed); err != nil {
			return fmt.Errorf("--layers: %w", err)
		}
		if f.set["keras-seed"] {
			if err := train.InitializeKeras(r.m, r.init, f.kerasSeed); err != nil {
				return fmt.Errorf("--keras-seed: %w", err)
			}
		}
	case f.initFrom != "":
		var info *modelfile.Info
		if r.m, info, err = openModel(f.initFrom, f.arch, "", "", ""); err != nil {
			return err
		}
		if info.Keras != nil {
			r.kerasMajor = info.Keras.Major
		}
	default: // --arch alone: a fresh model of that architecture
		if err := r.fresh(); err != nil {
			return err
		}
	}
	if f.resume == "" && r.kerasMajor > 0 && r.kerasMajor <= 2 {
		// Binary cross-entropy on probabilities follows the Keras
		// version of the file (Keras 1 and 2 add ε inside the logarithms).
		r.cfg.Loss = r.cfg.Loss.Keras2()
	}
	m := r.m
	if r.data.X == nil {
		if r.data.X, err = r.ld.rows(f.data, m.InputWidth()); err != nil {
			return err
		}
	}
	if f.target != "" {
		if r.data.Y, err = r.ld.targets(r.data.X, f.data, f.target, m.OutputWidth()); err != nil {
			return err
		}
	} else if m.OutputWidth() != m.InputWidth() {
		return fmt.Errorf("%w: the model maps %d inputs to %d outputs; give --target", train.ErrData, m.InputWidth(), m.OutputWidth())
	}
	if f.valData != "" {
		if r.val.X, err = r.ld.rows(f.valData, m.InputWidth()); err != nil {
			return err
		}
		if f.valTarget != "" {
			if r.val.Y, err = r.ld.targets(r.val.X, f.valData, f.valTarget, m.OutputWidth()); err != nil {
				return err
			}
		}
	}
	return nil
}

// fresh makes the model of --arch alone: that architecture, initialised
// with --init and --seed (or --keras-seed).
func (r *trainRun) fresh() error {
	f := r.f
	opt, err := modelOptions("")
	if err != nil {
		return err
	}
	opt.ZeroWeights = true
	m, info, err := modelfile.Open(f.arch, opt)
	if err != nil {
		return fmt.Errorf("--arch: %w", flagHint(f.arch, err))
	}
	if info.Keras == nil || info.Keras.Format != keras.FormatJSON {
		format := string(info.Format)
		if info.Keras != nil {
			format = string(info.Keras.Format)
		}
		return fmt.Errorf("--arch %s: this is a saved model with weights (%s); use --init-from to start from it", f.arch, format)
	}
	r.m, r.kerasMajor = m, info.Keras.Major
	initialize := func() error { return train.Initialize(m, r.init, f.seed) }
	if f.set["keras-seed"] {
		initialize = func() error { return train.InitializeKeras(m, r.init, f.kerasSeed) }
	}
	if err := initialize(); err != nil {
		return fmt.Errorf("--arch %s: %w", f.arch, err)
	}
	return nil
}

// ready checks, before training, what would otherwise fail after it: a
// --recon image the model cannot draw, a model the output's format cannot
// hold; and removes the temporaries of a killed run's checkpoint.
func (r *trainRun) ready() error {
	if r.m.TrainableParams() == 0 && r.m.Params() > 0 {
		// Keras warns too ("The model does not have any trainable
		// weights") and fits with an unchanging loss.
		fmt.Fprintf(r.stderr, "aekit train: warning: every layer of the model is frozen (trainable=False): no weight will change\n")
	}
	if r.f.recon != "" {
		if err := reconFits(r.m); err != nil {
			return err
		}
	}
	// Training changes weights, not what the format must express.
	if _, err := modelfile.Marshal(r.f.out, r.m, nil); err != nil {
		return fmt.Errorf("-o %w", err)
	}
	// A run killed by SIGKILL leaves the temporary files of its last
	// checkpoint write; this run is the checkpoint's only writer.
	if r.ckpt != "" {
		atomicfile.RemoveStale(r.ckpt)
	}
	return nil
}

// run trains, logging epochs as --verbose asks.
func (r *trainRun) run(ctx context.Context) (*train.History, error) {
	bar := newProgress(r.stderr)
	if r.f.verbose != 1 {
		bar.on = false
	}
	r.cfg.OnBatch = bar.batch
	r.cfg.OnEpoch = func(e train.EpochLog) { bar.epoch(r.stdout, r.f.verbose, e, epochLine(e)) }
	h, err := train.Fit(ctx, r.m, r.data, r.val, r.cfg)
	bar.clear()
	return h, err
}

// trainError reports a failed or interrupted run and returns the exit
// code.
func (r *trainRun) trainError(err error, h *train.History) int {
	f, stderr, ckpt := r.f, r.stderr, r.ckpt
	switch {
	case errors.Is(err, train.ErrInterrupted) && ckpt == "":
		fmt.Fprintf(stderr, "aekit train: %s\nno checkpoint written (--no-checkpoint): the run cannot be resumed\n", errorLine(err))
		return exitMismatch
	case errors.Is(err, train.ErrInterrupted):
		fmt.Fprintf(stderr, "aekit train: %s\ncheckpoint written to %s; resume with:\n  %s\n", errorLine(err), ckpt, resumeCommand(f, ckpt))
		return exitMismatch
	case errors.Is(err, train.ErrNaNLoss):
		if _, serr := os.Stat(ckpt); ckpt != "" && serr == nil && h != nil && len(h.Loss) > 0 {
			fmt.Fprintf(stderr, "aekit train: %s; the checkpoint of the last good epoch (%d) is kept in %s; no model written\n", errorLine(err), h.Epoch[len(h.Epoch)-1]+1, ckpt)
		} else {
			fmt.Fprintf(stderr, "aekit train: %s; no epoch finished, no model or checkpoint written (try a lower --lr)\n", errorLine(err))
		}
		return exitMismatch
	}
	return fail(stderr, "train", dataError(f, err))
}

// dataError names the file of the data a training error is about: a
// target out of binary cross-entropy's range, NaN or Inf (Fit names the
// data: data, target, validation data or validation target; the file is
// the flag's). Other errors come back as they are.
func dataError(f *trainFlags, err error) error {
	var tre *train.TargetRangeError
	switch {
	case errors.As(err, &tre):
		return unscaledError(f, tre)
	case errors.Is(err, train.ErrNonFinite):
		return nonFiniteError(f, err)
	}
	return err
}

// report saves the trained model and writes what the flags ask for: the
// checkpoint's fate, history, plot, reconstructions, JSON summary.
func (r *trainRun) report(h *train.History) error {
	f, stderr, ckpt := r.f, r.stderr, r.ckpt
	f.names.apply(r.m)
	if _, err := saveScored(f.out, r.m, 0, f.score, nil); err != nil {
		return err
	}
	switch {
	case ckpt == "":
		fmt.Fprintf(stderr, "aekit train: model written to %s\n", f.out)
	case r.keepCkpt:
		fmt.Fprintf(stderr, "aekit train: model written to %s (checkpoint kept in %s)\n", f.out, ckpt)
	default:
		// The run succeeded: the default checkpoint has served its
		// purpose (resuming after Ctrl-C) and is removed.
		if err := os.Remove(ckpt); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the checkpoint: %w", err)
		}
		fmt.Fprintf(stderr, "aekit train: model written to %s\n", f.out)
	}
	if f.history != "" {
		if err := atomicfile.Write(f.history, h.WriteCSV); err != nil {
			return err
		}
	}
	if f.plot != "" {
		if err := plotHistory(f.plot, h); err != nil {
			return err
		}
	}
	if f.recon != "" {
		if err := r.recon(); err != nil {
			return err
		}
	}
	if f.asJSON {
		kept := ""
		if r.keepCkpt {
			kept = ckpt
		}
		return printTrainJSON(r.stdout, f.out, kept, h)
	}
	return nil
}

// recon draws --recon from the first validation rows (of
// --validation-data or the validation split), else the first rows.
func (r *trainRun) recon() error {
	d, first := r.data.X, 0
	if r.val.X != nil {
		d = r.val.X
	} else if r.cfg.ValidationSplit > 0 {
		nTrain, _, err := train.SplitRows(d.Rows(), r.cfg.ValidationSplit)
		if err != nil {
			return err
		}
		first = nTrain
	}
	k := min(d.Rows()-first, 10)
	idx := make([]int, k)
	for i := range idx {
		idx[i] = first + i
	}
	x := make([]float32, k*d.Width())
	if err := d.ReadRows(x, idx); err != nil {
		return err
	}
	return reconImage(r.f.recon, r.m, x, k)
}

// nonFiniteError adds to Fit's error the file of the data it names.
func nonFiniteError(f *trainFlags, err error) error {
	msg := err.Error()
	for _, p := range []struct{ what, flag, file string }{
		{"validation target", "validation-target", f.valTarget}, {"validation data", "validation-data", f.valData},
		{"target", "target", f.target}, {"data", "data", f.data}} {
		if p.file != "" && strings.Contains(msg, ": "+p.what+" row ") {
			return fmt.Errorf("%s: %w", p.file, err)
		}
	}
	return fmt.Errorf("%w (--data %s%s)", err, f.data, fileList(f))
}

// trainSummary is what train --json prints when a run ends. Epochs are
// 1-based, as the log prints them; StoppedEpoch and BestEpoch are 0 when
// early stopping did not stop or did not run.
type trainSummary struct {
	Output       string    `json:"output"`
	Checkpoint   string    `json:"checkpoint,omitempty"`
	Epochs       []int     `json:"epochs"`
	Loss         []float64 `json:"loss"`
	ValLoss      []float64 `json:"val_loss,omitempty"`
	Seconds      []float64 `json:"seconds"`
	StoppedEpoch int       `json:"stopped_epoch,omitempty"`
	BestEpoch    int       `json:"best_epoch,omitempty"`
}

// printTrainJSON writes the summary of a finished run to w, one line.
func printTrainJSON(w io.Writer, out, kept string, h *train.History) error {
	s := trainSummary{Output: out, Checkpoint: kept, Loss: h.Loss, ValLoss: h.ValLoss, Seconds: h.Seconds,
		StoppedEpoch: h.StoppedEpoch + 1, BestEpoch: h.BestEpoch + 1}
	for _, e := range h.Epoch {
		s.Epochs = append(s.Epochs, e+1)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// checkpointPath returns the checkpoint file of a run ("" for none) and
// whether it is kept after a successful run: OUT.ckpt by default,
// removed on success; the file --checkpoint names, kept; none with
// --no-checkpoint or --checkpoint "". A --checkpoint value that reads as
// a boolean (--checkpoint=false) is refused rather than taken as a file
// name.
func checkpointPath(f *trainFlags) (string, bool, error) {
	switch {
	case f.noCheckpoint && f.set["checkpoint"] && f.checkpoint != "":
		return "", false, errors.New("--checkpoint and --no-checkpoint contradict each other")
	case f.noCheckpoint || (f.set["checkpoint"] && f.checkpoint == ""):
		return "", false, nil
	case f.set["checkpoint"]:
		if _, err := strconv.ParseBool(f.checkpoint); err == nil {
			return "", false, fmt.Errorf("--checkpoint %s: want a file name (--no-checkpoint writes none)", f.checkpoint)
		}
		return f.checkpoint, true, nil
	}
	return f.out + ".ckpt", false, nil
}

// unscaledError names the file holding an out-of-range binary
// cross-entropy target and says what to do about it.
func unscaledError(f *trainFlags, e *train.TargetRangeError) error {
	file := map[string]string{"target": f.target, "data": f.data,
		"validation target": f.valTarget, "validation data": f.valData}[e.What]
	if file == "" {
		file = f.data
	}
	return fmt.Errorf("%s: row %d column %d is %g, but binary cross-entropy needs targets in [0, 1]: scale the data (e.g. divide by 255) or use --loss mse (--allow-unscaled-targets trains anyway)", file, e.Row, e.Col, e.Value)
}

// fileList names the target and validation files given, for messages.
func fileList(f *trainFlags) string {
	var b strings.Builder
	for _, p := range [][2]string{{"target", f.target}, {"validation-data", f.valData}, {"validation-target", f.valTarget}} {
		if p[1] != "" {
			fmt.Fprintf(&b, ", --%s %s", p[0], p[1])
		}
	}
	return b.String()
}

// setOptimizer applies the optimizer flags beyond name and learning rate.
func setOptimizer(o train.Optimizer, f *trainFlags) error {
	var decay *train.ExponentialDecay
	if f.decayRate != 0 {
		if f.decaySteps < 1 {
			return fmt.Errorf("--lr-decay-steps %d: %w", f.decaySteps, train.ErrConfig)
		}
		decay = &train.ExponentialDecay{DecaySteps: f.decaySteps, DecayRate: f.decayRate, Staircase: f.staircase}
	}
	switch o := o.(type) {
	case *train.Adam:
		o.Decay = decay
	case *train.SGD:
		o.Decay = decay
		if f.set["momentum"] {
			o.Momentum = f.momentum
		}
		if f.nesterov {
			o.Nesterov = true
			if o.Momentum == 0 {
				return errors.New("--nesterov needs --momentum > 0")
			}
		}
	case *train.RMSprop:
		o.Decay, o.Momentum = decay, f.momentum
	case *train.Adagrad:
		o.Decay = decay
	}
	if f.momentum != 0 && f.optimizer != "sgd" && f.optimizer != "nesterov" && f.optimizer != "rmsprop" {
		return fmt.Errorf("--momentum applies to sgd and rmsprop, not %s", f.optimizer)
	}
	return nil
}

// checkStdin refuses "-" (standard input) for the files train reads by
// name: its data, which it may map into memory and a checkpoint refers
// to, and the architecture and checkpoint it starts from. --init-from
// reads a model from standard input as the other commands do.
func checkStdin(f *trainFlags) error {
	for _, in := range []struct{ flag, name, what string }{
		{"--data", f.data, "data"}, {"--target", f.target, "data"},
		{"--validation-data", f.valData, "data"}, {"--validation-target", f.valTarget, "data"},
		{"--arch", f.arch, "architecture"}, {"--resume", f.resume, "checkpoint"},
	} {
		if in.name == "-" {
			return fmt.Errorf("%s -: train reads its %s from a file, not standard input (-); give a file name", in.flag, in.what)
		}
	}
	return nil
}

// checkOutputs rejects, before hours of training, output names whose
// format is unknown, that cannot be written (a missing folder, a FIFO, a
// symbolic link), that name the same file twice (the checkpoint and the
// model, say) or an input (atomicfile.CheckOutputs).
func checkOutputs(f *trainFlags, ckpt string) error {
	if f.out == "-" {
		return errors.New("-o -: train writes its model to a file, after which its checkpoint is named; stream it with aekit convert OUT - --format onnx|keras|h5")
	}
	if err := checkModelExt(f.out); err != nil {
		return err
	}
	outs := []atomicfile.Output{{Label: "-o", Name: f.out}, {Label: "--checkpoint", Name: ckpt, Updates: f.resume},
		{Label: "--history", Name: f.history, Ext: ".csv"}, {Label: "--plot", Name: f.plot, Ext: ".png"}, {Label: "--recon", Name: f.recon, Ext: ".png"}}
	var inputs []string
	for _, in := range []string{f.data, f.target, f.valData, f.valTarget, f.resume} {
		file, _ := dataset.SplitName(in)
		inputs = append(inputs, file)
	}
	return atomicfile.CheckOutputs(outs, inputs...)
}

// checkModelExt refuses an -o name whose extension names no model format.
func checkModelExt(out string) error {
	switch strings.ToLower(filepath.Ext(out)) {
	case ".keras", ".h5", ".hdf5", ".onnx":
		return nil
	}
	return fmt.Errorf("-o %s: unknown model format (want .keras, .h5 or .onnx)", out)
}

// epochLine formats a finished epoch as Keras 2's progress bar ends it
// (tf-keras 2.21, verbose=1, without the bar):
//
//	235/235 - 1s 4ms/step - loss: 0.2954 - val_loss: 0.2871
//
// The epoch time is in whole seconds ("0s" for a fast epoch) and the time
// per step in s, ms or us, rounded, as Keras prints them.
func epochLine(e train.EpochLog) string {
	perStep := 0.0
	if e.Steps > 0 {
		perStep = e.Seconds / float64(e.Steps)
	}
	s := fmt.Sprintf("%d/%d - %.0fs %s/step - loss: %.4f", e.Steps, e.Steps, e.Seconds, kerasTimeUnit(perStep), e.Loss)
	if !math.IsNaN(e.ValLoss) {
		s += fmt.Sprintf(" - val_loss: %.4f", e.ValLoss)
	}
	return s
}

// kerasTimeUnit formats a duration in seconds as Keras 2's progress bar
// formats the time per step: whole seconds from 1s (and for 0), whole
// milliseconds from 1ms, whole microseconds ("us") below.
func kerasTimeUnit(sec float64) string {
	switch {
	case sec >= 1 || sec == 0:
		return fmt.Sprintf("%.0fs", sec)
	case sec >= 1e-3:
		return fmt.Sprintf("%.0fms", sec*1e3)
	}
	return fmt.Sprintf("%.0fus", sec*1e6)
}

// resumeCommand is the command line that resumes an interrupted run.
func resumeCommand(f *trainFlags, ckpt string) string {
	parts := []string{"aekit", "train", "--data", quoteArg(f.data)}
	if f.target != "" {
		parts = append(parts, "--target", quoteArg(f.target))
	}
	if f.valData != "" {
		parts = append(parts, "--validation-data", quoteArg(f.valData))
		if f.valTarget != "" {
			parts = append(parts, "--validation-target", quoteArg(f.valTarget))
		}
	}
	parts = append(parts, "--resume", quoteArg(ckpt), "-o", quoteArg(f.out))
	if f.set["checkpoint"] {
		parts = append(parts, "--checkpoint", quoteArg(ckpt))
	}
	if f.set["epochs"] {
		parts = append(parts, "--epochs", strconv.Itoa(f.epochs))
	}
	if f.set["mmap"] {
		parts = append(parts, "--mmap="+strconv.FormatBool(f.mmap))
	}
	if f.allowUnscaled {
		parts = append(parts, "--allow-unscaled-targets")
	}
	if f.verbose != 1 {
		parts = append(parts, "--verbose", strconv.Itoa(f.verbose))
	}
	for _, p := range []struct{ flag, v string }{{"--input-name", f.names.in}, {"--output-name", f.names.out}, {"--history", f.history}, {"--plot", f.plot}, {"--recon", f.recon}} {
		if p.v != "" {
			parts = append(parts, p.flag, quoteArg(p.v))
		}
	}
	return strings.Join(parts, " ")
}

func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// progress draws a Keras-style progress bar on a terminal; on anything
// else it draws nothing.
type progress struct {
	w    io.Writer
	on   bool
	last time.Time
	drew bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) batch(b train.BatchLog) {
	if !p.on {
		return
	}
	now := time.Now()
	if b.Batch+1 < b.Batches && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	done := b.Samples * width / b.Total
	bar := strings.Repeat("=", done)
	if done < width {
		bar += ">" + strings.Repeat(".", width-done-1)
	}
	eta := 0.0
	if b.Samples > 0 {
		eta = b.Elapsed / float64(b.Samples) * float64(b.Total-b.Samples)
	}
	fmt.Fprintf(p.w, "\rEpoch %d/%d %d/%d [%s] - ETA: %s - loss: %.4f\x1b[K", b.Epoch+1, b.Epochs, b.Batch+1, b.Batches, bar, fmtETA(eta), b.Loss)
	p.drew = true
}

// epoch clears the bar and prints a finished epoch's line as verbose
// (--verbose) asks: 1 under an "Epoch i/n" line, 2 on the same line, 0
// not at all.
func (p *progress) epoch(w io.Writer, verbose int, e train.EpochLog, line string) {
	p.clear()
	switch verbose {
	case 1:
		fmt.Fprintf(w, "Epoch %d/%d\n%s\n", e.Epoch+1, e.Epochs, line)
	case 2:
		fmt.Fprintf(w, "Epoch %d/%d - %s\n", e.Epoch+1, e.Epochs, line)
	}
}

func (p *progress) clear() {
	if p.drew {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drew = false
	}
}

func fmtETA(s float64) string {
	switch {
	case s < 60:
		return fmt.Sprintf("%.0fs", s)
	case s < 3600:
		return fmt.Sprintf("%d:%02d", int(s)/60, int(s)%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", int(s)/3600, int(s)/60%60, int(s)%60)
}
