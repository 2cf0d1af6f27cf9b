package awscfg_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/envwrap/envwrap/source"
	"github.com/envwrap/envwrap/source/awscfg"
)

// refusing answers every call with one AWS JSON error. It stands in for
// the answers kumo never gives (throttling, 5xx, access denied) so that
// Classify is tested on errors the real SDK parsed from real responses.
func refusing(t *testing.T, status int, code string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", code)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":"refused by the test server"}`, code)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestClassify(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		status          int
		code            string
		permanent, gone bool
	}{
		{400, "ParameterNotFound", true, true},
		{400, "ParameterVersionNotFound", true, true},
		{404, "ResourceNotFoundException", true, true},
		{400, "AccessDeniedException", true, false},
		{400, "ValidationException", true, false},
		{400, "InvalidParameterException", true, false},
		{400, "DecryptionFailure", true, false},
		{400, "SomeFutureClientError", true, false},
		{400, "ThrottlingException", false, false},
		{429, "TooManyRequestsException", false, false},
		{408, "SomeTimeout", false, false},
		{500, "InternalServerError", false, false},
		{503, "ServiceUnavailable", false, false},
	} {
		srv, hits := refusing(t, tc.status, tc.code)
		o := awscfg.Options{Region: "us-east-1", Endpoint: srv.URL}
		cfg, err := awscfg.Load(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		_, err = awscfg.SSMClient(cfg, o).GetParameters(context.Background(),
			&ssm.GetParametersInput{Names: []string{"/classify/x"}})
		err = awscfg.Classify("ssm", err)
		permanent, gone := source.IsPermanent(err), errors.Is(err, source.ErrNotFound)
		if permanent != tc.permanent || gone != tc.gone {
			t.Errorf("%d %s: permanent %v, not found %v; want %v, %v",
				tc.status, tc.code, permanent, gone, tc.permanent, tc.gone)
		}
		if !strings.HasPrefix(err.Error(), "ssm: ") || !strings.Contains(err.Error(), tc.code) {
			t.Errorf("%d %s: message %q", tc.status, tc.code, err)
		}
		// The SDK's retries are off: one call, however retryable.
		if n := hits.Load(); n != 1 {
			t.Errorf("%d %s: %d calls, want 1", tc.status, tc.code, n)
		}
	}
}

func TestClassifyRequestTheSDKRefuses(t *testing.T) {
	isolate(t)
	srv, hits := refusing(t, 500, "Unused")
	o := awscfg.Options{Region: "us-east-1", Endpoint: srv.URL}
	cfg, err := awscfg.Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = awscfg.SSMClient(cfg, o).GetParametersByPath(context.Background(),
		&ssm.GetParametersByPathInput{}) // no Path: refused before sending
	if err = awscfg.Classify("ssm", err); !source.IsPermanent(err) || hits.Load() != 0 {
		t.Errorf("got %v after %d calls, want a permanent error and no call", err, hits.Load())
	}
}

func TestClassifyNil(t *testing.T) {
	if err := awscfg.Classify("ssm", nil); err != nil {
		t.Errorf("Classify(nil) = %v", err)
	}
}
