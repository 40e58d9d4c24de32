// Package h5 is a small pure-Go reader for the part of HDF5 that Keras
// files use: it opens a file image held in memory, lists groups, reads
// attributes (string values and the type and shape of any attribute) and
// reads numeric datasets as float32. It never opens another file and
// uses no cgo. Writing HDF5 lives in the subpackage libhdf5 (over the
// HDF5 C library), which also serves as the test oracle of this reader.
//
// Section numbers in comments refer to the HDF5 File Format
// Specification version 3.0.
//
// # What is read
//
//   - Superblocks version 0 to 3 (§II.A), with a user block before them.
//   - Object headers version 1 and 2 with continuation blocks (§IV.A.1,
//     §IV.A.2.q).
//   - Groups: symbol tables (a v1 B-tree of symbol table nodes naming
//     links in a local heap, §III.A.1, §III.B, §III.D), compact link
//     messages (§IV.A.2.g) and dense storage (link info message, fractal
//     heap and v2 B-tree name index, §IV.A.2.c, §III.G, §III.A.2); hard
//     links and soft links that resolve inside the file.
//   - Attributes: messages version 1 to 3 (§IV.A.2.m) and dense storage
//     (attribute info message, fractal heap including huge objects, v2
//     B-tree of type 8, §IV.A.2.v); fixed- and variable-length strings
//     (global heap, §III.E), ASCII or UTF-8.
//   - Datasets: compact, contiguous and chunked layouts (§IV.A.2.i,
//     versions 1 to 4); chunk indexes: v1 B-tree, and for version 4
//     layouts single chunk, implicit, fixed array, extensible array and
//     v2 B-tree (§VII, §III.A.2); filters
//     deflate, shuffle and fletcher32 (checked) (§IV.A.2.l); fill values
//     for chunks and storage never written (§IV.A.2.f). Elements: IEEE
//     754 half, single and double floats and 8- to 64-bit integers, either
//     byte order, converted to float32 as libhdf5 converts them.
//
// Not read (an error wrapping ErrUnsupported): other filters (szip, nbit,
// scale-offset, plugins),
// filtered fractal heaps, shared (committed) datatypes and shared
// messages, VAX floats, padded integers. Keras and h5py with default
// settings write none of these.
//
// # What is refused
//
// Open walks every group once and refuses, with an error wrapping
// ErrExternal that names the object, anything that reaches outside the
// file: datasets with external storage (EFL message, §IV.A.2.h), virtual
// datasets (layout class 3), external links and user-defined links, and
// soft links that do not resolve inside the file (dangling, or looping
// beyond 16 soft links). A file shorter than the end-of-file address in
// its superblock is refused as truncated, as libhdf5 does.
//
// # Limits
//
// Every offset and length is checked against the image before use, and
// every allocation is bounded before it is made:
//
//   - a dataset's declared bytes, both as stored and as the float32
//     values returned: at most MaxDataBytes (1 GiB) and at most MaxRatio
//     (1024) times the file size (plus 4 KiB), before its buffer is
//     allocated; chunks are decoded one at a time straight into that
//     buffer, each inflating into a buffer of its declared size (more
//     output is an error), reused from chunk to chunk, so a read takes
//     about the size of its result plus two chunks; each chunk position
//     is filled at most once, and all chunks together decode at most 8
//     times the dataset's bytes plus one chunk;
//   - strings: at most 2^20 per attribute; variable-length strings of one
//     attribute add up to at most the file size plus 1 MiB;
//   - at most 2^20 links per group and 2^16 attributes per object;
//   - rank at most 32; 32 filters per pipeline;
//   - nesting: group paths and depth 64, B-trees 32 levels, fractal heap
//     indirect blocks 16 levels, 16 soft links per path resolution, 4096
//     continuation blocks per object header;
//   - cycles: every B-tree node, symbol table node, continuation block
//     and group is visited at most once per walk (visited sets);
//   - total work per File: at most 2×size+65536 parsing steps (header
//     messages, links, attributes, B-tree entries, heap objects, chunks)
//     and at most 4×(largest dataset allowed)+2×size bytes of values
//     decoded, so structures shared between objects cannot make reading
//     quadratic in the file size.
//
// Parsers never panic on bad input: they bound-check and return errors
// wrapping ErrFormat. As defence in depth the exported methods also turn
// a panic into ErrFormat; the tests and FuzzOpen run with that recovery
// off, so a panic fails them.
//
// A File caches what it parses and is not safe for concurrent use.
package h5
