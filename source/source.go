// Package source defines what every secret backend provides and the
// reference syntax that names a secret. It also owns resolution: fetching
// a set of references concurrently, once each, with retries under a total
// deadline. The backends live in the sub-packages, one each.
package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/envwrap/envwrap/secret"
)

// Source is one backend.
type Source interface {
	// Batches groups references into the units that one Fetch call
	// serves, such as ten Parameter Store names per GetParameters call.
	Batches(refs []Ref) [][]Ref
	// Fetch resolves one batch and returns one Result per reference, in
	// the order given. An error that retrying cannot cure is marked with
	// Permanent.
	Fetch(ctx context.Context, refs []Ref) []Result
}

// Secret is what a backend returns for one reference.
type Secret struct {
	Ref     Ref
	Version string       // backend version id, shown in logs; never the value
	Value   secret.Value // the value, when the reference names one
	// Tree holds the values under a path, keyed by their name relative to
	// the path (for ssm:///app/ the parameter /app/db/host is "db/host").
	// It is nil unless Ref.IsPath().
	Tree map[string]secret.Value
	// Binary marks a value that came from a binary field (SecretBinary).
	Binary bool
	// Composite marks a value that the backend assembled as a JSON object
	// (a dotenv file's names), rather than one the user stored. It is meant
	// to be picked apart, not used whole as one variable.
	Composite bool
	// Lease is set when the backend issued the value for a limited time,
	// such as Vault's dynamic database credentials; its zero value means
	// the value does not expire.
	Lease Lease
}

// Lease is a backend's grant of a value for a limited time.
type Lease struct {
	ID        string        // the backend's lease id; safe to log
	Duration  time.Duration // how long the value is valid from the fetch
	Renewable bool          // whether Renew can extend it
}

// Renewer is met by backends whose values can carry a Lease.
type Renewer interface {
	// Renew asks for the lease to be extended by increment (the backend
	// may grant less) and returns the duration granted. It never
	// replaces the value: the same credentials stay valid for longer.
	Renew(ctx context.Context, lease Lease, increment time.Duration) (time.Duration, error)
	// Revoke ends the lease at once; the value stops working.
	Revoke(ctx context.Context, lease Lease) error
}

// Result is a Secret or the error that kept it from being fetched.
type Result struct {
	Secret Secret
	Err    error
}

// permanent marks errors that a retry cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one that retrying will not cure, such as a secret
// that does not exist or access that is denied.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// ErrNotFound is wrapped by backends when a secret does not exist.
var ErrNotFound = errors.New("not found")

// RefError ties an error to the reference it is about. Its message names
// the reference and never a value.
type RefError struct {
	Ref Ref
	Err error
}

func (e *RefError) Error() string { return fmt.Sprintf("%s: %v", e.Ref.Raw, e.Err) }
func (e *RefError) Unwrap() error { return e.Err }

// Checker is met by backends that can learn a secret's current version
// more cheaply than by fetching its value, such as Secrets Manager's
// DescribeSecret. Rotation asks for versions first and fetches only the
// references whose version moved.
type Checker interface {
	// Versions returns one Version per reference, in the order given.
	Versions(ctx context.Context, refs []Ref) []Version
}

// Version is a reference's current version, or why it is not known.
type Version struct {
	ID  string
	Err error
}

// Broken returns a Source whose every fetch fails with err: a backend
// that could not be set up, such as AWS without a region.
func Broken(err error) Source { return broken{err} }

type broken struct{ err error }

func (b broken) Batches(refs []Ref) [][]Ref { return [][]Ref{refs} }

func (b broken) Fetch(_ context.Context, refs []Ref) []Result {
	out := make([]Result, len(refs))
	for i := range out {
		out[i] = Result{Err: b.err}
	}
	return out
}
