package modelfile_test

// The -update flag of go test -run Golden -update (see internal/golden):
// every test binary that go test ./... runs must define it.
import _ "github.com/aekit/aekit/internal/golden"
