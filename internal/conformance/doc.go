// Package conformance is the test suite every model implementation goes
// through, as gonum's blas/testblas is for BLAS implementations: a set of
// models (every activation, every layer type, the classic autoencoders,
// nested encoder/decoder models) with inputs and the outputs of an
// independent float64 reference forward pass.
//
// A format package tests itself by handing RoundTrip a function that writes
// a model and reads it back; a kernel variant by handing it the identity.
// Cases a format cannot carry go in an explicit skip list with a reason.
package conformance
