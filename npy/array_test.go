package npy

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestBatch(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		width int
		n     int
		msg   string // part of the error message, "" for success
	}{
		{[]int{784}, 784, 1, ""},
		{[]int{5}, 1, 5, ""},
		{[]int{1}, 1, 1, ""},
		{[]int{10, 784}, 784, 10, ""},
		{[]int{10, 28, 28}, 784, 10, ""},
		{[]int{10, 1, 28, 28}, 784, 10, ""},
		{[]int{0, 784}, 784, 0, ""},
		{[]int{0, 28, 28}, 784, 0, ""},
		{[]int{10, 1}, 1, 10, ""},
		{[]int{783}, 784, 0, "shape (783,) is not one sample of width 784"},
		{[]int{10, 28, 27}, 784, 0, "shape (10, 28, 27) holds rows of 756 values, want width 784"},
		{[]int{784, 10}, 784, 0, "shape (784, 10) holds rows of 10 values"},
		{[]int{}, 1, 0, "0-d array"},
		{[]int{4}, 0, 0, "width 0 is not positive"},
		{[]int{4}, -4, 0, "width -4 is not positive"},
	} {
		size := 1
		for _, d := range tc.shape {
			size *= d
		}
		a := &Array{Shape: tc.shape, Data: make([]float32, size)}
		n, err := a.Batch(tc.width)
		switch {
		case tc.msg == "" && (err != nil || n != tc.n):
			t.Errorf("shape %v width %d: Batch = %d, %v; want %d", tc.shape, tc.width, n, err, tc.n)
		case tc.msg != "" && (!errors.Is(err, ErrShape) || !strings.Contains(err.Error(), tc.msg)):
			t.Errorf("shape %v width %d: error %v, want ErrShape with %q", tc.shape, tc.width, err, tc.msg)
		}
	}
	// Shape and Data disagreeing (an Array built by hand).
	a := &Array{Shape: []int{3, 4}, Data: make([]float32, 11)}
	if _, err := a.Batch(4); !errors.Is(err, ErrShape) {
		t.Errorf("inconsistent array: error %v, want ErrShape", err)
	}
}

func TestFirstNonFinite(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		shape    []int
		data     []float32
		row, col int
		ok       bool
	}{
		{[]int{2, 3}, []float32{0, 1, 2, 3, 4, 5}, 0, 0, false},
		{[]int{2, 3}, []float32{0, 1, 2, 3, nan, inf}, 1, 1, true},
		{[]int{2, 3}, []float32{0, -inf, 2, 3, 4, 5}, 0, 1, true},
		{[]int{2, 2, 2}, []float32{0, 1, 2, 3, 4, 5, 6, inf}, 1, 3, true},
		{[]int{4}, []float32{0, 3.4028235e38, -3.4028235e38, nan}, 0, 3, true},
		{[]int{}, []float32{nan}, 0, 0, true},
		{[]int{0, 3}, []float32{}, 0, 0, false},
		{[]int{2, 3}, []float32{0, 1, 2, 3, 4, math.Float32frombits(0xffc00001)}, 1, 2, true},
	} {
		a := &Array{Shape: tc.shape, Data: tc.data}
		row, col, ok := a.FirstNonFinite()
		if row != tc.row || col != tc.col || ok != tc.ok {
			t.Errorf("shape %v %v: FirstNonFinite = %d, %d, %v; want %d, %d, %v", tc.shape, tc.data, row, col, ok, tc.row, tc.col, tc.ok)
		}
	}
}
