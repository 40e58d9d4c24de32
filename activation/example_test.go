package activation_test

import (
	"fmt"

	"github.com/aekit/aekit/activation"
)

func Example() {
	f, ok := activation.Lookup("silu")
	fmt.Println(f, ok)
	fmt.Println(activation.Default(activation.LeakyReLU))
	fmt.Println(activation.HardSigmoidKeras3())
	_, ok = activation.Lookup("relu7")
	fmt.Println(ok)
	// Output:
	// swish true
	// leaky_relu(alpha=0.2)
	// hard_sigmoid(alpha=0.1667, beta=0.5)
	// false
}
