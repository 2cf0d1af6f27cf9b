package secrettest

import "testing"

func TestLeak(t *testing.T) {
	cases := map[string]int{
		"nothing to see":         -1,
		"x " + Canary:            2,
		"partial: 3cr3 in there": 9,
		"CANA":                   0,
		"s3c":                    -1,
	}
	for s, want := range cases {
		if got := Leak(s); got != want {
			t.Errorf("Leak(%d bytes) = %d, want %d", len(s), got, want)
		}
	}
}
