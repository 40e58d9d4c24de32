package npy_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/aekit/aekit/npy"
)

// Write an array, read it back, and view it as samples of 4 values.
func Example() {
	var buf bytes.Buffer
	a := &npy.Array{Shape: []int{2, 2, 2}, Data: []float32{0, 1, 2, 3, 4, 5, 6, 7}}
	if err := npy.Write(&buf, a); err != nil {
		log.Fatal(err)
	}
	b, err := npy.Read(&buf)
	if err != nil {
		log.Fatal(err)
	}
	n, err := b.Batch(4)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.Shape, b.DType, n, b.Data[4:8])
	// Output: [2 2 2] <f4 2 [4 5 6 7]
}

// Read MNIST-like uint8 images, converted to float32, as rows of 784 pixels.
func ExampleReadFile() {
	a, err := npy.ReadFile("../fixtures/npy/images_u1.npy")
	if err != nil {
		log.Fatal(err)
	}
	n, err := a.Batch(28 * 28)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Shape, a.DType, n, a.Data[:4])
	// Output: [3 28 28] |u1 3 [0 7 14 21]
}

// Read the array named "y" from an .npz archive written by numpy.savez.
func ExampleReadFileArray() {
	a, err := npy.ReadFileArray("../fixtures/npy/savez_xy.npz", "y")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Shape, a.DType, a.Data)
	// Output: [3] <i8 [0 1 2]
}

// Find the first NaN or Inf, to report it before training.
func ExampleArray_FirstNonFinite() {
	a, err := npy.ReadFile("../fixtures/npy/f4_le.npy")
	if err != nil {
		log.Fatal(err)
	}
	if row, col, ok := a.FirstNonFinite(); ok {
		fmt.Printf("row %d, column %d is %v\n", row, col, a.Data[row*4+col])
	}
	// Output: row 1, column 0 is NaN
}

// Map a large float32 file instead of reading it into memory.
func ExampleMap() {
	m, err := npy.Map("../fixtures/npy/vec_f4.npy")
	if err != nil {
		log.Fatal(err) // ReadFile reads files Map refuses (errors.Is(err, npy.ErrNotMappable))
	}
	defer m.Close()
	fmt.Println(m.Shape, m.Data)
	// Output: [5] [1 -2 3.25 0.001 7]
}
