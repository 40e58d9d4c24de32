package runtime

// Regularizer is Keras's L1L2 weight regulariser: it adds
// L1·Σ|v| + L2·Σv² over the values it applies to to the training loss
// (keras.regularizers.L1, L2 and L1L2 are this with one or both
// factors). The zero Regularizer adds nothing.
type Regularizer struct {
	L1, L2 float64
}

// IsZero reports whether r adds nothing.
func (r Regularizer) IsZero() bool { return r.L1 == 0 && r.L2 == 0 }

// Regularizers are a Dense layer's Keras regularisers: kernel_regularizer
// on its kernel, bias_regularizer on its bias, activity_regularizer on its
// output (after the activation; Keras 3 divides that penalty by the batch
// size). Only training reads them; inference ignores them.
type Regularizers struct {
	Kernel, Bias, Activity Regularizer

	// Unsupported, when not empty, names a regulariser the file gives
	// that aekit cannot apply (a custom class, say: "kernel_regularizer:
	// regulariser class \"MyReg\""). Training refuses the layer rather
	// than leave it out of the loss; writers drop it.
	Unsupported string
}

// IsZero reports whether r adds nothing and names nothing unsupported.
func (r *Regularizers) IsZero() bool {
	return r == nil || (r.Kernel.IsZero() && r.Bias.IsZero() && r.Activity.IsZero() && r.Unsupported == "")
}
