// Package tolerance is aekit's one comparison of computed outputs with
// expected ones: Compare(got, want, atol, rtol) returns a Report (values
// out of tolerance, the worst of them, max absolute, max relative and
// normwise error, with where each occurs). Package onnx's self-check,
// `aekit check` and the conformance suite (internal/conformance) all
// compare through it, so they apply one rule:
//
//   - a finite pair passes when |got − want| ≤ atol + rtol·|want|;
//   - NaN matches only NaN, and +Inf or −Inf only the same infinity: a
//     finite value never matches an infinite one, whatever the tolerance;
//   - MaxAbs, MaxRel, Normwise and MaxTolUsed are taken over the pairs
//     where both values are finite (so they stay finite numbers, printable
//     as JSON); Normwise becomes +Inf when a non-finite pair does not
//     match (NonFiniteBad > 0) or the lengths differ; MaxRel is
//     |got − want|/|want| over the finite pairs where |want| > atol
//     (where the relative error means something: below atol the absolute
//     tolerance governs);
//   - the worst value is the one furthest beyond its tolerance, a
//     mismatched non-finite pair (the first one) before any finite one.
package tolerance
