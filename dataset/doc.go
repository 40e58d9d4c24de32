// Package dataset opens NumPy .npy and .npz files as the rows package
// train trains on (train.Data), as aekit train reads --data, --target and
// the validation files:
//
//	l := dataset.NewLoader(nil)           // Auto: map float32 .npy files over 1 GiB
//	defer l.Close()
//	x, err := l.Rows("x.npy", 0)           // width 0: the file's own rows
//	m, err := train.Build(x.Width(), arch, train.GlorotUniform, seed)
//	h, err := train.Fit(ctx, m, train.Set{X: x}, train.Set{}, train.DefaultConfig())
//
// # Rows
//
// A file holds one sample per row: an array of shape (n, d1, d2, …) is n
// rows of d1·d2·… values, so (n, 28, 28) images are rows of 784 values; a
// 1-D array of length d is one row of d values when no width is asked for
// (see npy.Array.Batch for the shapes that hold rows of a given width).
// uint8 data (raw pixels) is divided by 255, as the Keras examples do
// before fit; other dtypes are used as they are. NaN and Inf pass through:
// train.Fit checks every value as it streams through the data and names
// the row.
//
// # Memory-mapped or read
//
// Float32 .npy files in C order (what numpy writes for float32 arrays) can
// be memory-mapped instead of read (npy.Map): their rows are then read
// from the file batch by batch with pread, by index (npy.Matrix), so a
// file larger than memory trains with bounded resident memory and the same
// results as when it is read. Options.Mode chooses: Auto maps such files
// when they are larger than MapThreshold (1 GiB) and reads other files
// into memory; Map maps every file or fails with an error wrapping
// npy.ErrNotMappable (uint8, float64 and Fortran-order .npy files and .npz
// archives cannot be mapped); Read reads every file into memory.
//
// # Names
//
// A name is a file, or "archive.npz:key" for the array called key in an
// .npz archive (SplitName); an .npz named without a key gives its only
// array, or else "x", or else "arr_0" (npy.ReadFile). Archives are read
// within Options.Limits.
//
// # Errors
//
// Errors name the file. They wrap npy's sentinel errors (npy.ErrFormat,
// npy.ErrShape, npy.ErrNotMappable, …), ErrNoRows for a file without a
// row, and train.ErrData when targets and inputs differ in row count.
package dataset
