package h5

import "testing"

// ZipMember is zipMember for the external tests (oracle_test.go).
func ZipMember(t testing.TB, b []byte, name string) []byte { return zipMember(t, b, name) }
