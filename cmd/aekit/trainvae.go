package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aekit/aekit/dataset"
	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/train"
)

// vaeHelp is the part of aekit train's help about variational
// autoencoders.
const vaeHelp = `
Variational autoencoders: a --layers SPEC with an item LATENT:vae trains the
Dense VAE of the Keras examples (train.FitVAE): the layers before it are the
encoder, which ends in z_mean and z_log_var of LATENT units each, a sampling
layer z = z_mean + exp(0.5·z_log_var)·ε (ε ~ N(0, 1), from --seed), and the
layers after it are the decoder, e.g. the Keras example on 28×28 images:
  aekit train --data x.npy --layers "512:relu|2:vae|512:relu,784:sigmoid" --epochs 30 --batch-size 128 -o vae.onnx
The loss is the example train_step's: reconstruction (--loss, binary
cross-entropy by default, summed over the features, mean over the batch) plus
the KL divergence; each epoch prints loss, reconstruction_loss and kl_loss
(means over the epoch's batches, as the example's trackers). -o OUT.keras
writes one Keras 3 file shaped like the example's saved VAE: vae =
decoder(encoder(x)[2]), the encoder ending in Dense z_mean, Dense z_log_var
and a sampling layer z registered as aekit>Sampling (Keras loads it with
custom_objects={"aekit>Sampling": Sampling}, see keras.SamplingRegisteredName);
aekit predict OUT.keras --model decoder generates from codes, --model encoder
--output z_mean gives the codes. -o OUT.onnx or OUT.h5 writes two models,
OUT.encoder.EXT (input → z_mean and z_log_var, concatenated: the first LATENT
outputs are z_mean) and OUT.decoder.EXT (code → reconstruction; aekit predict
on it generates from codes); in OUT.encoder.onnx z_mean and z_log_var are two
outputs of those names (aekit reads the file as their concatenation).
--history writes
epoch,loss,reconstruction_loss,kl_loss,seconds. Not with a VAE: --target,
validation, early stopping, checkpoints (Ctrl-C stops without one), --noise,
--keras-seed, --plot, --recon, --score.`

// runTrainVAE is aekit train for a --layers spec with a LATENT:vae item.
func runTrainVAE(ctx context.Context, f *trainFlags, stdout, stderr io.Writer) int {
	failf := func(err error) int { return fail(stderr, "train", err) }
	for _, name := range []string{"target", "arch", "init-from", "resume", "validation-split", "validation-data",
		"validation-target", "early-stopping", "restore-best-weights", "noise", "keras-seed", "plot", "recon", "score", "checkpoint",
		"input-name", "output-name"} {
		if f.set[name] {
			return failf(fmt.Errorf("--%s is not supported with a VAE (--layers %s)", name, f.layers))
		}
	}
	if err := f.checkThreads(); err != nil {
		return failf(err)
	}
	arch, err := train.ParseVAE(f.layers)
	if err != nil {
		return failf(fmt.Errorf("--layers: %w", err))
	}
	init, err := train.ParseInitializer(f.init)
	if err != nil {
		return failf(err)
	}
	if f.out == "-" {
		return failf(errors.New("-o -: a VAE is written as a file, OUT.keras, or two, OUT.encoder.EXT and OUT.decoder.EXT"))
	}
	if err := checkModelExt(f.out); err != nil {
		return failf(err)
	}
	encOut, decOut := modelfile.VAEFiles(f.out)
	outs := []struct{ flag, name string }{{"-o", encOut}, {"-o", decOut}, {"--history", f.history}}
	for _, p := range outs {
		if p.name == "" {
			continue
		}
		if err := atomicfile.Check(p.name); err != nil {
			return failf(fmt.Errorf("%s %w", p.flag, err))
		}
		if in, _ := dataset.SplitName(f.data); atomicfile.SameFile(in, p.name) {
			return failf(fmt.Errorf("%s %s would overwrite the input %s", p.flag, p.name, in))
		}
	}
	if f.history != "" && (atomicfile.SameFile(f.history, encOut) || atomicfile.SameFile(f.history, decOut)) {
		return failf(fmt.Errorf("--history %s names a model output", f.history))
	}
	opt, loss, err := f.optimizerLoss()
	if err != nil {
		return failf(err)
	}
	cfg := train.Config{Optimizer: opt, Loss: loss, Epochs: f.epochs, BatchSize: f.batch,
		NoShuffle: f.noShuffle, Seed: f.seed, Threads: f.threads, AllowUnscaledTargets: f.allowUnscaled}
	if err := validate(&cfg); err != nil {
		return failf(err)
	}
	ld, err := newLoader(f, stderr)
	if err != nil {
		return failf(err)
	}
	defer ld.Close()
	x, err := ld.rows(f.data, 0)
	if err != nil {
		return failf(err)
	}
	v, err := train.BuildVAE(x.Width(), arch, init, f.seed)
	if err != nil {
		return failf(fmt.Errorf("--layers: %w", err))
	}
	// The output's format must hold the models: fail now, not after training.
	if _, _, err := modelfile.MarshalVAE(f.out, v.Encoder, v.Decoder); err != nil {
		return failf(fmt.Errorf("-o %w", err))
	}

	bar := newProgress(stderr)
	if f.verbose != 1 {
		bar.on = false
	}
	cfg.OnBatch = bar.batch
	vcfg := train.VAEConfig{Config: cfg, OnEpoch: func(e train.VAEEpochLog) {
		line := fmt.Sprintf("%s - reconstruction_loss: %.4f - kl_loss: %.4f", epochLine(e.EpochLog), e.Reconstruction, e.KL)
		bar.epoch(stdout, f.verbose, e.EpochLog, line)
	}}
	h, err := train.FitVAE(ctx, v, train.Set{X: x}, vcfg)
	bar.clear()
	if err != nil {
		if errors.Is(err, train.ErrInterrupted) || errors.Is(err, train.ErrNaNLoss) {
			fmt.Fprintf(stderr, "aekit train: %s; no model written\n", errorLine(err))
			return exitMismatch
		}
		return failf(dataError(f, err))
	}
	if err := modelfile.SaveVAE(f.out, v.Encoder, v.Decoder); err != nil {
		return failf(err)
	}
	if encOut == decOut {
		fmt.Fprintf(stderr, "aekit train: VAE written to %s (nested models encoder: z_mean, z_log_var, z; decoder; custom object %s)\n",
			f.out, keras.SamplingRegisteredName)
	} else {
		fmt.Fprintf(stderr, "aekit train: VAE written to %s (encoder: z_mean, z_log_var) and %s (decoder)\n", encOut, decOut)
	}
	if f.history != "" {
		if err := atomicfile.Write(f.history, h.WriteCSV); err != nil {
			return failf(err)
		}
	}
	if f.asJSON {
		s := struct {
			Encoder        string    `json:"encoder"`
			Decoder        string    `json:"decoder"`
			Epochs         []int     `json:"epochs"`
			Loss           []float64 `json:"loss"`
			Reconstruction []float64 `json:"reconstruction_loss"`
			KL             []float64 `json:"kl_loss"`
			Seconds        []float64 `json:"seconds"`
		}{encOut, decOut, nil, h.Loss, h.Reconstruction, h.KL, h.Seconds}
		for _, e := range h.Epoch {
			s.Epochs = append(s.Epochs, e+1)
		}
		b, err := json.Marshal(s)
		if err != nil {
			return failf(err)
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	return exitOK
}
