package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aekit/aekit/internal/limits"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train/internal/order"
)

// VAEArch is the architecture of a variational autoencoder for BuildVAE:
// the encoder's hidden layers, the size of the latent code, and the
// decoder's layers from the code to the reconstruction.
type VAEArch struct {
	// Encoder holds the layers between the input and the code (it may
	// have none); its Split is ignored.
	Encoder Arch
	// Latent is the number of latent dimensions: the encoder ends in
	// z_mean and z_log_var of Latent values each.
	Latent int
	// Decoder holds the layers from the code to the reconstruction,
	// whose last layer must have the input's width; its Split is ignored.
	Decoder Arch
}

// ZLayerName is the name of the encoder's last layer in a VAE built by
// BuildVAE: one linear Dense layer of 2·Latent units whose first Latent
// columns (of kernel and bias) are Keras's z_mean Dense layer and whose
// last Latent columns are its z_log_var layer.
const ZLayerName = "z_mean_log_var"

// IsVAESpec reports whether spec is a VAE's layer spelling: it has an
// item LATENT:vae (see ParseVAE).
func IsVAESpec(spec string) bool {
	for _, it := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '|' }) {
		if f := strings.Split(it, ":"); len(f) >= 2 && strings.TrimSpace(f[1]) == "vae" {
			return true
		}
	}
	return false
}

// ParseVAE reads the layer spelling of a variational autoencoder for aekit
// train --layers: ParseArch's items (Dense and noise layers) with exactly
// one item LATENT:vae, the latent code, between the encoder's layers and
// the decoder's, separated from them by ',' or '|':
//
//	512:relu|2:vae|512:relu,784:sigmoid
//
// is the Dense VAE of the Keras examples on 28×28 images (encoder
// Dense(512, relu), z_mean and z_log_var of 2 units, sampling, decoder
// Dense(512, relu) and Dense(784, sigmoid)). The encoder may be empty
// ("2:vae|784:sigmoid"), the decoder may not. Errors wrap ErrSpec.
func ParseVAE(spec string) (VAEArch, error) {
	var a VAEArch
	short := limits.Truncate(strings.TrimSpace(spec), 60)
	items := strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '|' })
	at := -1
	for i, it := range items {
		f := strings.Split(it, ":")
		if len(f) < 2 || strings.TrimSpace(f[1]) != "vae" {
			continue
		}
		if at >= 0 {
			return a, fmt.Errorf("%w %q: more than one LATENT:vae item", ErrSpec, short)
		}
		if len(f) > 2 {
			return a, fmt.Errorf("%w %q: the latent item %q takes no options", ErrSpec, short, limits.Truncate(strings.TrimSpace(it), 40))
		}
		n, err := strconv.Atoi(strings.TrimSpace(f[0]))
		if err != nil || n < 1 || n > MaxUnits {
			return a, fmt.Errorf("%w %q: latent size %q: want an integer in [1, %d]", ErrSpec, short, limits.Truncate(strings.TrimSpace(f[0]), 40), MaxUnits)
		}
		at, a.Latent = i, n
	}
	if at < 0 {
		return a, fmt.Errorf("%w %q: no LATENT:vae item (such as 2:vae)", ErrSpec, short)
	}
	if at > 0 {
		enc, err := ParseArch(strings.Join(items[:at], ","))
		if err != nil {
			return VAEArch{}, err
		}
		a.Encoder = enc
	}
	if at == len(items)-1 {
		return VAEArch{}, fmt.Errorf("%w %q: no decoder layers after the latent item", ErrSpec, short)
	}
	dec, err := ParseArch(strings.Join(items[at+1:], ","))
	if err != nil {
		return VAEArch{}, err
	}
	a.Decoder = dec
	a.Encoder.Split, a.Decoder.Split = 0, 0
	return a, nil
}

// String returns a's spelling for ParseVAE.
func (a VAEArch) String() string {
	var b strings.Builder
	enc, dec := a.Encoder, a.Decoder
	enc.Split, dec.Split = 0, 0
	if len(enc.Layers) > 0 {
		b.WriteString(strings.ReplaceAll(enc.String(), "|", ","))
		b.WriteByte('|')
	}
	fmt.Fprintf(&b, "%d:vae|%s", a.Latent, strings.ReplaceAll(dec.String(), "|", ","))
	return b.String()
}

// VAE is a variational autoencoder as the Keras examples build it: an
// encoder giving z_mean and z_log_var, a sampling layer z = z_mean +
// exp(z_log_var/2)·ε with ε ~ N(0, 1) (used in training only), and a
// decoder from z to the reconstruction. Both models are plain runtime
// models: runtime Predict on Encoder gives rows of z_mean then z_log_var,
// on Decoder a reconstruction (a generated sample) from codes.
type VAE struct {
	// Encoder maps an input row to 2·Latent values: z_mean (the first
	// Latent) and z_log_var (the last Latent). Its last layer is a linear
	// Dense layer of 2·Latent units (ZLayerName when built by BuildVAE).
	Encoder *runtime.Model
	// Decoder maps a code of Latent values to a row of the input's width.
	Decoder *runtime.Model
	// Latent is the number of latent dimensions.
	Latent int
}

// Validate checks that the encoder and decoder fit together: valid
// models, the encoder ending in a linear Dense layer of 2·Latent units,
// the decoder reading Latent values and writing the encoder's input
// width. Errors wrap ErrModel.
func (v *VAE) Validate() error {
	if v == nil || v.Encoder == nil || v.Decoder == nil {
		return fmt.Errorf("%w: VAE without an encoder or decoder", ErrModel)
	}
	if v.Latent < 1 {
		return fmt.Errorf("%w: VAE latent size %d < 1", ErrModel, v.Latent)
	}
	for _, m := range []*runtime.Model{v.Encoder, v.Decoder} {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrModel, err)
		}
	}
	var last *runtime.Layer
	v.Encoder.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type != runtime.SubModel && l.Type != runtime.Reshape {
			last = l
		}
	})
	switch {
	case last == nil || last.Type != runtime.Dense || !last.Act.IsIdentity() || last.Units != 2*v.Latent:
		return fmt.Errorf("%w: the VAE encoder %q must end in a linear Dense layer of 2×%d units (z_mean, z_log_var)", ErrModel, v.Encoder.Name, v.Latent)
	case v.Decoder.InputWidth() != v.Latent:
		return fmt.Errorf("%w: the VAE decoder %q reads %d values, the latent size is %d", ErrModel, v.Decoder.Name, v.Decoder.InputWidth(), v.Latent)
	case v.Decoder.OutputWidth() != v.Encoder.InputWidth():
		return fmt.Errorf("%w: the VAE decoder %q writes %d values, the encoder reads %d", ErrModel, v.Decoder.Name, v.Decoder.OutputWidth(), v.Encoder.InputWidth())
	}
	return nil
}

// BuildVAE returns a freshly initialised VAE for inputs of inputWidth
// values: Encoder is a Functional model "encoder" with a's encoder layers
// and then the linear Dense layer ZLayerName of 2·a.Latent units, Decoder
// a Functional model "decoder" with a's decoder layers (the last must
// have inputWidth units). Dense layers are named dense, dense_1, … across
// both models, as Keras names them in one session.
//
// Kernels use init ("" means GlorotUniform) from one generator seeded with
// seed, encoder first; the halves of the ZLayerName kernel are drawn as two
// separate layers of a.Latent units (Keras's z_mean and z_log_var), so
// their scale is Keras's. Biases start at zero. Errors wrap ErrSpec or
// ErrInitializer.
func BuildVAE(inputWidth int, a VAEArch, init Initializer, seed uint64) (*VAE, error) {
	init, err := ParseInitializer(string(init))
	if err != nil {
		return nil, err
	}
	if a.Latent < 1 || 2*a.Latent > MaxUnits {
		return nil, fmt.Errorf("%w: latent size %d outside [1, %d]", ErrSpec, a.Latent, MaxUnits/2)
	}
	encLayers := append(append([]Layer(nil), a.Encoder.Layers...), Layer{Kind: Dense, Units: 2 * a.Latent, text: fmt.Sprintf("%d:vae", a.Latent)})
	enc, err := buildChain("encoder", inputWidth, Arch{Layers: encLayers}, init, seed)
	if err != nil {
		return nil, err
	}
	dec, err := buildChain("decoder", a.Latent, a.Decoder, init, seed)
	if err != nil {
		return nil, err
	}
	if w := dec.OutputWidth(); w != inputWidth {
		return nil, fmt.Errorf("%w: the decoder's last layer has %d units, the input %d", ErrSpec, w, inputWidth)
	}
	// One naming sequence over both models, as in one Keras session.
	zl := enc.Layers[len(enc.Layers)-1]
	count := map[string]int{}
	for _, m := range []*runtime.Model{enc, dec} {
		for _, l := range m.Layers {
			if l == zl {
				continue
			}
			base := map[string]string{"Dense": "dense", "Dropout": "dropout", "GaussianNoise": "gaussian_noise",
				"GaussianDropout": "gaussian_dropout", "AlphaDropout": "alpha_dropout"}[l.Class]
			if n := count[base]; n == 0 {
				l.Name = base
			} else {
				l.Name = fmt.Sprintf("%s_%d", base, n)
			}
			count[base]++
		}
	}
	zl.Name = ZLayerName
	v := &VAE{Encoder: enc, Decoder: dec, Latent: a.Latent}
	initVAE(v, init, seed)
	return v, nil
}

// buildChain builds the layers of a as one flat Functional model named
// name (Build's checks and limits, without its encoder/decoder split).
func buildChain(name string, width int, a Arch, init Initializer, seed uint64) (*runtime.Model, error) {
	a.Split = 0
	m, err := Build(width, a, init, seed)
	if err != nil {
		return nil, err
	}
	var layers []*runtime.Layer
	for _, l := range m.Layers {
		if l.Type == runtime.SubModel {
			layers = append(layers, l.Sub.Layers...)
		} else {
			layers = append(layers, l)
		}
	}
	return &runtime.Model{Name: name, Class: "Functional", Input: []int{width}, InputName: "input_layer", Layers: layers}, nil
}

// initVAE draws v's kernels with init from one generator seeded with
// seed, encoder layers first, the two halves of the z layer's kernel as
// separate layers; biases are zero.
func initVAE(v *VAE, init Initializer, seed uint64) {
	fn := initializers[init]
	r, _ := newRand(seed, streamInit)
	zl := v.Encoder.Layers[len(v.Encoder.Layers)-1]
	for _, m := range []*runtime.Model{v.Encoder, v.Decoder} {
		m.Walk(func(_ []string, l *runtime.Layer) {
			if l.Type != runtime.Dense {
				return
			}
			fill(l.Bias, 0)
			if l != zl {
				fn(r, l.Kernel, l.In, l.Units)
				return
			}
			half := make([]float32, l.In*v.Latent)
			for h := range 2 {
				fn(r, half, l.In, v.Latent)
				for i := range l.In {
					copy(l.Kernel[i*l.Units+h*v.Latent:i*l.Units+(h+1)*v.Latent], half[i*v.Latent:(i+1)*v.Latent])
				}
			}
		})
	}
}

// VAEConfig configures FitVAE.
type VAEConfig struct {
	// Config holds the fit settings, as for Fit: Epochs, InitialEpoch,
	// BatchSize, NoShuffle, Seed (which also seeds ε), Optimizer, Loss (the
	// reconstruction loss, summed over features; binary cross-entropy
	// as in the Keras example), Threads, AllowUnscaledTargets and
	// OnBatch (whose Loss is the total). ValidationSplit, EarlyStopping,
	// CheckpointPath and Resume are not supported (ErrConfig); OnEpoch is
	// not called (see OnEpoch below).
	Config Config
	// OnEpoch, when not nil, is called after every epoch.
	OnEpoch func(VAEEpochLog)

	// eps, when set (tests), fills ε of update number iter instead of
	// the generator.
	eps func(iter int64, eps []float32)
}

// VAEEpochLog reports a finished epoch of FitVAE.
type VAEEpochLog struct {
	EpochLog
	// Reconstruction and KL are the epoch's mean reconstruction and KL
	// losses; EpochLog.Loss is their sum.
	Reconstruction, KL float64
}

// VAEHistory records the epochs FitVAE ran, with the metrics of the Keras
// example's train_step: loss, reconstruction_loss and kl_loss.
type VAEHistory struct {
	Epoch          []int     // 0-based epoch indices
	Loss           []float64 // total loss per epoch
	Reconstruction []float64 // reconstruction loss per epoch
	KL             []float64 // KL divergence per epoch
	Seconds        []float64 // wall time per epoch
}

// streamEps is the stream of the generator of the sampling layer's ε
// ("aekiteps").
const streamEps = 0x61656b6974657073

// FitVAE trains v in place on the rows of data (data.Y must be nil: a VAE
// reconstructs its input) as the train_step of the Keras example
// (keras.io/examples/generative/vae) does, with Keras's fit loop around
// it (batches, shuffling, the optimizer): per batch of n rows,
//
//	z_mean, z_log_var = encoder(x)
//	z = z_mean + exp(0.5·z_log_var)·ε,   ε ~ N(0, 1) from a generator seeded with Config.Seed
//	reconstruction_loss = mean over rows of Σ_features loss(x, decoder(z))
//	kl_loss = mean over rows of Σ_latent −0.5·(1 + z_log_var − z_mean² − exp(z_log_var))
//	loss = reconstruction_loss + kl_loss
//
// and one optimizer update of all weights from loss's gradient. Binary
// cross-entropy on a sigmoid output is computed from the logits, as Keras
// on TensorFlow does. Each epoch's metrics are the unweighted means of the
// batch values, as the example's Mean trackers report them. Dense layers'
// Kernel and Bias are replaced by views of the trained buffers, as in Fit.
// A step allocates nothing (TestVAEStepAllocs).
//
// Errors: ErrConfig for a bad or unsupported configuration, ErrModel for
// a VAE that does not fit together or has regularisers, ErrData,
// ErrNonFinite and ErrTargetRange for bad data, ErrNaNLoss, and
// ErrInterrupted (with the history so far) when ctx is cancelled.
func FitVAE(ctx context.Context, v *VAE, data Set, vcfg VAEConfig) (*VAEHistory, error) {
	cfg := vcfg.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case cfg.ValidationSplit != 0:
		return nil, fmt.Errorf("%w: validation split is not supported for a VAE", ErrConfig)
	case cfg.EarlyStopping != nil:
		return nil, fmt.Errorf("%w: early stopping is not supported for a VAE", ErrConfig)
	case cfg.CheckpointPath != "" || cfg.Resume != nil:
		return nil, fmt.Errorf("%w: checkpoints are not supported for a VAE", ErrConfig)
	}
	cfg = cfg.withDefaults()
	if err := v.Validate(); err != nil {
		return nil, err
	}
	if data.X == nil {
		return nil, fmt.Errorf("%w: no training data", ErrData)
	}
	if data.Y != nil && !sameData(data.X, data.Y) {
		return nil, fmt.Errorf("%w: a VAE reconstructs its input: give no targets", ErrData)
	}
	x := data.X
	inW := v.Encoder.InputWidth()
	if err := checkShape("data", x, -1, inW); err != nil {
		return nil, err
	}
	var sc scanner
	n := x.Rows()
	check := sc.checkFinite
	if cfg.Loss.IsBinaryCrossentropy() && !cfg.AllowUnscaledTargets {
		check = sc.checkFiniteInRange
	}
	if err := check("data", x, 0, n); err != nil {
		return nil, err
	}
	if rl, ok := x.(Releaser); ok {
		defer rl.Release()
	}
	vr, err := newVAERun(v, cfg, min(cfg.BatchSize, n))
	if err != nil {
		return nil, err
	}
	defer vr.close()
	vr.epsFn = vcfg.eps
	rng, _ := order.New(cfg.Seed)
	perm := make([]int, n)
	batches := (n + cfg.BatchSize - 1) / cfg.BatchSize
	h := &VAEHistory{}
	iter := int64(0)
	for epoch := cfg.InitialEpoch; epoch < cfg.Epochs; epoch++ {
		start := time.Now()
		var idx []int
		if !cfg.NoShuffle {
			for i := range perm {
				perm[i] = i
			}
			order.Shuffle(rng, perm)
			idx = perm
		}
		var sumR, sumK float64
		for b := range batches {
			lo := b * cfg.BatchSize
			rows := min(cfg.BatchSize, n-lo)
			recon, kl, err := vr.step(x, idx, lo, rows, true, cfg.Optimizer, iter)
			if err != nil {
				return h, err
			}
			if loss := recon + kl; math.IsNaN(loss) || math.IsInf(loss, 0) {
				return h, fmt.Errorf("%w: loss %g (reconstruction %g, KL %g) at epoch %d/%d, batch %d/%d (weights are those before this batch)",
					ErrNaNLoss, loss, recon, kl, epoch+1, cfg.Epochs, b+1, batches)
			}
			iter++
			sumR += recon
			sumK += kl
			if cfg.OnBatch != nil {
				cfg.OnBatch(BatchLog{Epoch: epoch, Epochs: cfg.Epochs, Batch: b, Batches: batches,
					Loss: (sumR + sumK) / float64(b+1), Samples: lo + rows, Total: n,
					Elapsed: time.Since(start).Seconds(), Iterations: iter, BatchLoss: recon + kl})
			}
			if ctx.Err() != nil {
				return h, fmt.Errorf("%w at epoch %d/%d after batch %d/%d: %w", ErrInterrupted, epoch+1, cfg.Epochs, b+1, batches, context.Cause(ctx))
			}
		}
		r, k := sumR/float64(batches), sumK/float64(batches)
		secs := time.Since(start).Seconds()
		h.Epoch = append(h.Epoch, epoch)
		h.Loss = append(h.Loss, r+k)
		h.Reconstruction = append(h.Reconstruction, r)
		h.KL = append(h.KL, k)
		h.Seconds = append(h.Seconds, secs)
		if vcfg.OnEpoch != nil {
			vcfg.OnEpoch(VAEEpochLog{EpochLog: EpochLog{Epoch: epoch, Epochs: cfg.Epochs, Steps: batches, Loss: r + k, ValLoss: math.NaN(), Seconds: secs},
				Reconstruction: r, KL: k})
		}
		if rl, ok := x.(Releaser); ok {
			rl.Release()
		}
	}
	return h, nil
}

// vaeRun holds a VAE's two flattened models and the buffers of the
// sampling layer: the encoder's net (its last op gives z_mean and
// z_log_var, its last gradient is written here), the decoder's net (its
// inputs are the sampled codes, its first op's input gradient goes to gz),
// sharing one pool of threads.
type vaeRun struct {
	enc, dec           *net
	encSlots, decSlots [][]float32
	latent, inW        int
	eps, gz            []float32 // ε and ∂loss/∂z, maxB×latent
	rng                *rand.Rand
	seq                []int
	// fixedEps, when set (tests), is used for ε instead of the generator;
	// else epsFn, when set.
	fixedEps []float32
	epsFn    func(iter int64, eps []float32)
}

func newVAERun(v *VAE, cfg Config, maxB int) (*vaeRun, error) {
	copies := 2 + len(cfg.Optimizer.slots())
	for _, m := range []*runtime.Model{v.Encoder, v.Decoder} {
		if err := checkSize(m, maxB, copies); err != nil {
			return nil, err
		}
	}
	enc, err := newNet(v.Encoder, MeanSquaredError, maxB, cfg.Threads)
	if err != nil {
		return nil, err
	}
	dec, err := newNet(v.Decoder, cfg.Loss, maxB, 1)
	if err != nil {
		enc.close()
		return nil, err
	}
	dec.close()
	dec.pool, dec.errs = enc.pool, enc.errs
	vr := &vaeRun{enc: enc, dec: dec, latent: v.Latent, inW: enc.inW}
	bad := func(format string, args ...any) (*vaeRun, error) {
		enc.close()
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrModel}, args...)...)
	}
	if enc.hasReg || dec.hasReg {
		return bad("regularisers in a VAE are not supported")
	}
	if last := enc.ops[len(enc.ops)-1]; !last.dense || !last.act.IsIdentity() || last.out != 2*v.Latent {
		return bad("the VAE encoder must end in a linear Dense layer of 2×%d units", v.Latent)
	}
	if first := dec.ops[0]; !first.dense && !first.noise {
		return bad("the VAE decoder must start with a Dense or noise layer")
	}
	enc.seed, dec.seed = cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15
	vr.encSlots = enc.newSlots(cfg.Optimizer)
	vr.decSlots = dec.newSlots(cfg.Optimizer)
	vr.eps = make([]float32, maxB*v.Latent)
	vr.gz = make([]float32, maxB*v.Latent)
	dec.setInputGrad(vr.gz)
	vr.rng, _ = newRand(cfg.Seed, streamEps)
	vr.seq = make([]int, maxB)
	return vr, nil
}

func (vr *vaeRun) close() { vr.enc.close() }

// step runs one batch: rows start..start+n of x in the order idx (nil:
// data order), the forward pass, the losses and, with opt not nil, the
// backward pass and opt's update number iter. It returns the batch's
// reconstruction and KL losses. With train set it also runs the backward
// pass into the nets' grads and, with opt not nil, applies opt's update
// number iter; weights are not touched when the loss is not finite.
func (vr *vaeRun) step(x Data, idx []int, start, n int, train bool, opt Optimizer, iter int64) (recon, kl float64, err error) {
	enc, dec, L := vr.enc, vr.dec, vr.latent
	rows := vr.seq[:n]
	if idx == nil {
		for i := range rows {
			rows[i] = start + i
		}
	} else {
		rows = idx[start : start+n]
	}
	xb := enc.xb[:n*vr.inW]
	for _, nt := range []*net{enc, dec} {
		nt.n, nt.train, nt.iter = n, train, iter
		nt.noiseKey = mix64(nt.seed ^ streamNoise + uint64(iter)*0x9e3779b97f4a7c15)
		nt.gy = false
	}
	// The nets' gather pass: the encoder reads the batch's rows into xb
	// (the decoder reads none); whatever else a batch's gather pass
	// prepares for the forward pass is done for both.
	enc.src, enc.gx, enc.rowIdx = x, true, rows
	dec.gx, dec.rowIdx = false, rows
	enc.pool.Run(enc.gather)
	dec.pool.Run(dec.gather)
	for i, err := range enc.errs {
		if err != nil {
			enc.errs[i] = nil
			return 0, 0, fmt.Errorf("%w: %w", ErrData, err)
		}
	}
	for _, o := range enc.ops {
		enc.pool.Run(o.fwd)
	}
	last := enc.ops[len(enc.ops)-1]
	hz := last.a
	// The sampling layer, into the decoder's input rows.
	eps := vr.eps[:n*L]
	switch {
	case vr.fixedEps != nil:
		copy(eps, vr.fixedEps)
	case vr.epsFn != nil:
		vr.epsFn(iter, eps)
	default:
		for i := range eps {
			eps[i] = float32(vr.rng.NormFloat64())
		}
	}
	z := dec.xb[:n*L]
	for r := range n {
		h := hz[r*2*L : (r+1)*2*L]
		var k float64
		for j := range L {
			mu, lv := h[j], h[L+j]
			z[r*L+j] = mu + float32(math.Exp(float64(0.5*lv)))*eps[r*L+j]
			k += float64(-0.5 * (1 + lv - mu*mu - float32(math.Exp(float64(lv)))))
		}
		kl += k
	}
	kl /= float64(n)
	// The decoder and the reconstruction loss, summed over features:
	// scale 1/n makes the loss gradient that of the batch mean.
	dec.y = xb
	dec.scale = float32(1 / float64(n))
	for _, o := range dec.ops {
		dec.pool.Run(o.fwd)
	}
	dec.pool.Run(dec.lossRows)
	for _, v := range dec.rowLoss[:n] {
		recon += v
	}
	recon *= float64(dec.outW) / float64(n)
	if !train || math.IsNaN(recon+kl) || math.IsInf(recon+kl, 0) {
		return recon, kl, nil
	}
	var c stepConsts
	if opt != nil {
		c = opt.consts(iter)
	}
	dec.arm(opt, c, vr.decSlots)
	backward(dec)
	dec.arm(nil, stepConsts{}, nil)
	// ∂loss/∂z_mean = ∂loss/∂z + z_mean/n,
	// ∂loss/∂z_log_var = ∂loss/∂z·ε·exp(z_log_var/2)/2 + (exp(z_log_var) − 1)/(2n).
	inv := float32(1 / float64(n))
	g := last.g
	for r := range n {
		h := hz[r*2*L : (r+1)*2*L]
		gr := g[r*2*L : (r+1)*2*L]
		for j := range L {
			mu, lv, gzv := h[j], h[L+j], vr.gz[r*L+j]
			gr[j] = gzv + mu*inv
			gr[L+j] = gzv*0.5*float32(math.Exp(float64(0.5*lv)))*eps[r*L+j] + 0.5*(float32(math.Exp(float64(lv)))-1)*inv
		}
	}
	enc.arm(opt, c, vr.encSlots)
	backward(enc)
	enc.arm(nil, stepConsts{}, nil)
	return recon, kl, nil
}

// backward runs nt's backward pass from the gradient in its last op's g,
// applying the armed update layer by layer.
func backward(nt *net) {
	for i := len(nt.ops) - 1; i >= 0; i-- {
		o := nt.ops[i]
		nt.pool.Run(o.bwdRows)
		if o.dense {
			nt.pool.Run(o.bwdWeights)
		}
	}
}
