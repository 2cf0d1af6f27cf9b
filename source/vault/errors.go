package vault

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/envwrap/envwrap/source"
)

// classify prefixes err with "vault: " and what was being done, and marks
// it with source.Permanent when a retry cannot cure it: 404 (which also
// wraps source.ErrNotFound), 400, 403 and other 4xx answers, and a
// certificate that does not verify. Connection failures, 5xx answers
// (503 is a sealed Vault) and 429 stay unmarked, for the resolver to
// retry.
//
// Vault's own error text is kept: it names paths, never values. The
// request URL, which api.ResponseError would print, is left out as the
// address is already named.
func classify(what string, err error) error {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return classifyStatus(what, re.StatusCode, vaultErrors(re))
	}
	if badCertificate(err) || errors.Is(err, http.ErrSchemeMismatch) {
		// Neither a certificate nor https:// against plain http will
		// change by trying again.
		return source.Permanent(fmt.Errorf("vault: %s: %w", what, err))
	}
	return fmt.Errorf("vault: %s: %w", what, err)
}

func classifyStatus(what string, status int, msg string) error {
	text := fmt.Sprintf("vault: %s: status %d", what, status)
	if msg != "" {
		text += ": " + msg
	}
	switch {
	case status == 404:
		return source.Permanent(fmt.Errorf("%s: %w", text, source.ErrNotFound))
	case status >= 400 && status < 500 && status != 429 && status != 408:
		return source.Permanent(errors.New(text))
	}
	return errors.New(text)
}

// vaultErrors is Vault's list of errors on one line. A body that was not
// JSON (a proxy's HTML page, say) is left out: it is not Vault's word.
func vaultErrors(re *api.ResponseError) string {
	if re.RawError {
		return ""
	}
	msgs := make([]string, len(re.Errors))
	for i, m := range re.Errors {
		// Vault joins several errors into one text with tabs and blank
		// lines; a log line wants one line.
		msgs[i] = strings.Join(strings.Fields(m), " ")
	}
	return strings.Join(msgs, "; ")
}

func badCertificate(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	return errors.As(err, &verify) || errors.As(err, &unknown) ||
		errors.As(err, &hostname)
}
