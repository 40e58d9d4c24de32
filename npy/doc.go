// Package npy reads and writes NumPy .npy and .npz files as float32 arrays.
//
// aekit works in float32, like Keras. Read, ReadFile and ReadFileArray accept
// every numeric NumPy dtype that converts to float32 without ambiguity —
// bool, int8 to int64, uint8 to uint64, float16, float32 and float64 — in
// either byte order and in C or Fortran order, and return an Array whose
// Data is float32 in C (row-major) order. Conversion rounds to the nearest
// float32 like numpy's astype(np.float32): float64 values beyond the float32
// range become ±Inf, large integers are rounded. NaN and Inf values pass
// through unchanged; Array.FirstNonFinite finds them.
//
// Write and WriteFile produce version 1.0 .npy files holding little-endian
// float32 in C order ('<f4'), which every numpy version reads. WriteFile
// writes to a temporary file in the destination folder and renames it into
// place, so a failed write never leaves a partial file.
//
// Map memory-maps a float32 .npy file instead of reading it, for data sets
// larger than memory.
//
// # Formats
//
// Versions 1.0, 2.0 and 3.0 of the .npy format are read. An .npz file is a
// zip archive of .npy files (as written by numpy.savez and
// numpy.savez_compressed); the file kind is detected from its magic bytes,
// not its name. ReadFile takes the only array of an .npz, or else the array
// named "x", or else "arr_0"; ReadFileArray names the array to read.
//
// # Bad input
//
// Input is never trusted: headers longer than 64 KiB, shapes with more than
// 64 dimensions, negative dimensions and shapes whose size overflows are
// rejected before anything is allocated, and the data is read in chunks, so
// a header that claims more data than the input holds fails with
// ErrTruncated after reading what is there rather than allocating what it
// claims. Errors wrap the sentinel errors of this package (ErrFormat,
// ErrTruncated, ErrTooLarge, ErrDType, ...) and can be tested with
// errors.Is; errors from the file functions name the file.
//
// An .npz archive is checked before anything is decompressed: each
// member's declared size and its ratio to its compressed size, and the
// archive's total, against the limits of Options (ReadFileOptions;
// ReadFile and ReadFileArray use the defaults); members flagged encrypted
// and two members of the same name (numpy would read the last) are
// refused. The file functions refuse a named pipe or a device before
// reading it, and errors quote at most 40 bytes of a header token.
//
// Map memory-maps a float32 .npy file; its Matrix(width) is the file seen
// as rows, read by index with pread (ReadRows) without making any page
// of the mapping resident: the row source (train.Data, satisfied
// structurally) through which package train trains on files larger than
// memory.
package npy
