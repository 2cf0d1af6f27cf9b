package manifest

import (
	"strings"
	"testing"
)

func TestProcessErrors(t *testing.T) {
	cases := map[string]string{
		"process: {stop_timeout: 0s}\n": "envwrap.yaml:2:25: process.stop_timeout: must be " +
			"more than 0s",
		"process: {restart: always}\n": "envwrap.yaml:2:20: process.restart: \"always\" is " +
			"not allowed; use one of: never, on-failure",
		"process: {max_restarts: -1}\n": "envwrap.yaml:2:25: process.max_restarts: must be 0 " +
			"(no bound) or more, got -1",
	}
	for body, want := range cases {
		_, err := Parse("envwrap.yaml", []byte("version: 1\n"+body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %q", body, err, want)
		}
	}
}
