package source

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Schemes that a reference may use.
const (
	SchemeSecretsManager = "aws-sm"
	SchemeParameterStore = "ssm"
	SchemeFile           = "file"
	SchemeVault          = "vault"
)

// queryKeys lists the query parameters each scheme accepts.
var queryKeys = map[string][]string{
	SchemeSecretsManager: {"version_id", "version_stage"},
	SchemeParameterStore: nil,
	SchemeFile:           {"format"},
	SchemeVault:          {"version"},
}

// Ref is a parsed secret reference, scheme://locator[?query][#key].
//
// The locator is sent to the backend byte for byte: nothing is decoded,
// trimmed or rewritten, so `$`, a trailing `/` and ARNs arrive as written.
// Key, after `#`, names a field of a JSON secret; dots separate levels.
type Ref struct {
	Raw       string     // the reference as written
	Scheme    string     // one of the Scheme constants
	Locator   string     // what the backend is asked for
	Query     url.Values // backend options such as version_stage
	Key       string     // JSON key path; "" means the whole value
	Recursive bool       // for paths: descend into sub-paths
}

// Parse splits a reference into its parts and checks the parts that do
// not need a backend to check.
func Parse(raw string) (Ref, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Ref{}, fmt.Errorf("reference %q has no scheme; use one of %s",
			raw, schemeList())
	}
	if _, known := queryKeys[scheme]; !known {
		return Ref{}, fmt.Errorf("reference %q: unknown scheme %q; use one of %s",
			raw, scheme, schemeList())
	}
	ref := Ref{Raw: raw, Scheme: scheme}
	rest, ref.Key, _ = strings.Cut(rest, "#")
	rest, query, hasQuery := strings.Cut(rest, "?")
	ref.Locator = rest
	if ref.Locator == "" {
		return Ref{}, fmt.Errorf("reference %q: nothing after %s://", raw, scheme)
	}
	if hasQuery {
		q, err := parseQuery(scheme, query)
		if err != nil {
			return Ref{}, fmt.Errorf("reference %q: %w", raw, err)
		}
		ref.Query = q
	}
	if scheme == SchemeVault {
		if err := vaultPath(ref.Locator); err != nil {
			return Ref{}, fmt.Errorf("reference %q: %w", raw, err)
		}
	}
	if strings.Contains(ref.Key, "#") || (ref.Key == "" && strings.HasSuffix(raw, "#")) {
		return Ref{}, fmt.Errorf("reference %q: empty or repeated #key", raw)
	}
	return ref, nil
}

func parseQuery(scheme, query string) (url.Values, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("bad query: %w", err)
	}
	allowed := queryKeys[scheme]
	for _, k := range slices.Sorted(maps.Keys(q)) {
		vs := q[k]
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, fmt.Errorf("%s references take no ?%s", scheme, k)
			}
			return nil, fmt.Errorf("unknown option %q; allowed: %s",
				k, strings.Join(allowed, ", "))
		}
		if len(vs) != 1 || vs[0] == "" {
			return nil, fmt.Errorf("option %q needs exactly one non-empty value", k)
		}
	}
	if q.Has("version_id") && q.Has("version_stage") {
		return nil, fmt.Errorf("give version_id or version_stage, not both")
	}
	if f := q.Get("format"); f != "" && !slices.Contains(fileFormats, f) {
		return nil, fmt.Errorf("format %q is not allowed; use one of: %s",
			f, strings.Join(fileFormats, ", "))
	}
	return q, nil
}

// fileFormats are the formats a file:// reference may name.
var fileFormats = []string{"dotenv", "json", "raw"}

// vaultPath refuses the path segments Vault would resolve to another path
// (it redirects secret/../kv1/x to kv1/x, and reads secret//app as
// secret/app): what is read must be what the manifest says.
func vaultPath(p string) error {
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("vault paths take no empty, . or .. segments, " +
				"nor a leading or trailing /")
		}
	}
	return nil
}

func schemeList() string {
	return "aws-sm://, ssm://, file://, vault://"
}

// IsPath reports whether the reference names a hierarchy of values (an
// SSM path, written with a trailing slash) rather than one value.
func (r Ref) IsPath() bool {
	return r.Scheme == SchemeParameterStore && strings.HasSuffix(r.Locator, "/")
}

// Target identifies what is fetched: references that differ only in their
// #key share one fetch.
func (r Ref) Target() string {
	t, _, _ := strings.Cut(r.Raw, "#")
	if r.Recursive {
		t += " (recursive)"
	}
	return t
}

// String is the reference as written, the only way a secret is named in
// logs and errors.
func (r Ref) String() string { return r.Raw }
