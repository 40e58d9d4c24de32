// Package score turns an autoencoder into an anomaly detector: one
// reconstruction error per row, a threshold learnt on normal rows, the
// quality of the detector on labelled rows, and the threshold's storage
// beside the model.
//
// # Scores
//
// Rows scores each row by the mean over its features of a metric between
// the model's output and the row itself: mse (squared output units), mae
// (output units) or bce (binary cross-entropy in nats, from the logits
// when the model ends in a sigmoid, as Keras computes its loss on
// TensorFlow). The formulas are package train's losses (train.RowLosses):
// a row's score is its contribution to the loss Keras's evaluate reports,
// and the batch is scored while its outputs are in the working buffers.
//
// # Thresholds
//
// Quantile is numpy.quantile's default (method="linear"): the sorted
// scores s[0] ≤ … ≤ s[n−1] interpolated at position h = (n−1)·q. A row is
// anomalous when its score is strictly greater than the threshold (the
// ONNX graph aekit writes computes the same Greater).
//
// A Threshold (metric, value, quantile, calibration rows) is stored with
// a model in two ways, read in this order:
//   - a sidecar JSON file MODEL.anomaly.json beside the model file (for
//     example model.keras.anomaly.json), for every format: the one place
//     a calibration is saved (aekit score --save-threshold), and what a
//     server reads first;
//   - the ONNX file's metadata_props under the keys MetaMetric,
//     MetaThreshold and MetaQuantile, written by aekit convert and aekit
//     train -o X.onnx with --score, together with a reconstruction_error
//     output and, when a threshold is known, an is_anomaly output.
//
// # Evaluation
//
// Evaluate compares scores with 0/1 labels (1 = anomalous): ROC AUC (the
// area under the ROC curve with ties counted half, equal to the
// Mann–Whitney statistic), average precision as scikit-learn's
// average_precision_score defines it (Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct
// scores in decreasing order, no interpolation), and precision, recall
// and F1 at a threshold and at the threshold with the best F1.
package score
