package runtime_test

import (
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/runtime"
)

// TestConformance runs the in-memory models through the suite: the runtime
// forward pass against the float64 reference.
func TestConformance(t *testing.T) {
	conformance.RoundTrip(t, func(m *runtime.Model) (*runtime.Model, error) {
		return m, m.Validate()
	}, conformance.Options{})
}
