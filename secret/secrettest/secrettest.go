// Package secrettest gives tests a canary: a value that plays a secret,
// and a check that no output carries any of it.
package secrettest

import (
	"strings"
	"testing"
)

// Canary marks secret text in tests.
const Canary = "s3cr3t-CANARY"

// Leak returns where s holds the canary or a run of four of its bytes,
// or -1 when it holds none.
func Leak(s string) int {
	for i := 0; i+4 <= len(Canary); i++ {
		if at := strings.Index(s, Canary[i:i+4]); at >= 0 {
			return at
		}
	}
	return -1
}

// NoLeak fails t when s, described by what, holds any of the canary. The
// failure says where, and never quotes s: a test's messages are output
// too.
func NoLeak(t testing.TB, what, s string) {
	t.Helper()
	if at := Leak(s); at >= 0 {
		t.Errorf("%s holds part of the secret at byte %d", what, at)
	}
}
