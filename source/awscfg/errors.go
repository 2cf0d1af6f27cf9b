package awscfg

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/envwrap/envwrap/source"
)

// notFoundCodes are the AWS error codes that mean the secret, parameter
// or the version asked for does not exist.
var notFoundCodes = map[string]bool{
	"ResourceNotFoundException":     true, // Secrets Manager
	"ParameterNotFound":             true, // Parameter Store
	"ParameterVersionNotFound":      true,
	"ParameterVersionLabelNotFound": true,
}

// permanentCodes are refusals that no retry within one resolve cures.
// Other 4xx answers are treated the same way; the list names the common
// ones so that they stay permanent even without an HTTP status.
var permanentCodes = map[string]bool{
	"AccessDeniedException":       true,
	"AccessDenied":                true,
	"UnrecognizedClientException": true,
	"InvalidClientTokenId":        true,
	"ValidationException":         true,
	"InvalidParameterException":   true,
	"InvalidRequestException":     true, // e.g. a secret scheduled for deletion
	"InvalidKeyId":                true,
	"DecryptionFailure":           true, // KMS refused to decrypt
}

// sdkRetryables is the SDK's own judgement of what is worth retrying:
// throttling codes, 5xx statuses, connection errors and clock skew.
var sdkRetryables = retry.IsErrorRetryables(retry.DefaultRetryables)

// Classify prefixes err with the backend's name ("aws-sm", "ssm") and
// marks it with source.Permanent when a retry cannot cure it: a missing
// secret (which also wraps source.ErrNotFound), denied access, a request
// AWS rejects as invalid, a failed decryption. Throttling, server errors
// and network failures stay unmarked so that the resolver retries them.
//
// The SDK's error text names the operation, the request id and AWS's
// message, which names the secret but never holds its value.
func Classify(backend string, err error) error {
	if err == nil {
		return nil
	}
	code := errorCode(err)
	switch {
	case notFoundCodes[code]:
		return source.Permanent(fmt.Errorf("%s: %w: %w", backend, source.ErrNotFound, err))
	case permanentCodes[code], rejectedBySDK(err):
		return source.Permanent(fmt.Errorf("%s: %w", backend, err))
	case sdkRetryables.IsErrorRetryable(err) == aws.TrueTernary:
		return fmt.Errorf("%s: %w", backend, err)
	case code != "" && clientError(err):
		return source.Permanent(fmt.Errorf("%s: %w", backend, err))
	}
	return fmt.Errorf("%s: %w", backend, err)
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// rejectedBySDK reports a request the SDK refused to send because a
// required field was missing or out of range.
func rejectedBySDK(err error) bool {
	var invalid smithy.InvalidParamsError
	return errors.As(err, &invalid)
}

// clientError reports an HTTP 4xx answer other than 408 (request
// timeout) and 429 (too many requests), which a later attempt may pass.
func clientError(err error) bool {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return false
	}
	status := re.HTTPStatusCode()
	return status >= 400 && status < 500 && status != 408 && status != 429
}
