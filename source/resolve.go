package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Resolver fetches references from their backends.
type Resolver struct {
	Sources map[string]Source // by scheme
	Logger  *slog.Logger
	// Limit is how many Fetch calls run at once; 0 means 8.
	Limit int
	// Deadline bounds the total time spent on one Resolve, retries
	// included; 0 means no bound beyond ctx.
	Deadline time.Duration
	// Backoff is the first retry delay, doubled each attempt up to
	// MaxBackoff, with jitter; zeros mean 250ms and 10s.
	Backoff, MaxBackoff time.Duration
	// OnResult, if set, is told of every attempt's result; metrics use it.
	OnResult func(ref Ref, err error)
}

// Resolve fetches every reference once, however many times it appears,
// and returns the results keyed by Ref.Target. It fails only when ctx
// ends before work starts; per-reference failures are in the results.
func (r *Resolver) Resolve(ctx context.Context, refs []Ref) map[string]Result {
	if r.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Deadline)
		defer cancel()
	}
	out := make(map[string]Result, len(refs))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.limit())
	for _, batch := range r.plan(refs, out) {
		g.Go(func() error {
			results := r.fetchBatch(gctx, batch)
			mu.Lock()
			defer mu.Unlock()
			for i, res := range results {
				out[batch[i].Target()] = res
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through out, never through errors
	return out
}

// plan removes duplicate targets and asks each backend how to batch its
// references. References with no backend are answered at once in out.
func (r *Resolver) plan(refs []Ref, out map[string]Result) [][]Ref {
	seen := make(map[string]bool)
	byScheme := make(map[string][]Ref)
	var order []string
	for _, ref := range refs {
		if seen[ref.Target()] {
			continue
		}
		seen[ref.Target()] = true
		if _, ok := r.Sources[ref.Scheme]; !ok {
			err := fmt.Errorf("no %s:// backend is configured", ref.Scheme)
			out[ref.Target()] = Result{Err: &RefError{Ref: ref, Err: Permanent(err)}}
			continue
		}
		if byScheme[ref.Scheme] == nil {
			order = append(order, ref.Scheme)
		}
		byScheme[ref.Scheme] = append(byScheme[ref.Scheme], ref)
	}
	var batches [][]Ref
	for _, scheme := range order {
		batches = append(batches, r.Sources[scheme].Batches(byScheme[scheme])...)
	}
	return batches
}

// fetchBatch calls the backend until every reference in the batch has
// an answer that is not a transient error, or the context ends.
func (r *Resolver) fetchBatch(ctx context.Context, batch []Ref) []Result {
	src := r.Sources[batch[0].Scheme]
	results := make([]Result, len(batch))
	pending := batch
	index := make([]int, len(batch))
	for i := range index {
		index[i] = i
	}
	for attempt := 1; ; attempt++ {
		start := time.Now()
		got := src.Fetch(ctx, pending)
		var retryRefs []Ref
		var retryIndex []int
		for i, res := range got {
			r.logResult(pending[i], res, attempt, time.Since(start))
			results[index[i]] = res
			if res.Err != nil && !IsPermanent(res.Err) {
				retryRefs = append(retryRefs, pending[i])
				retryIndex = append(retryIndex, index[i])
			}
		}
		if len(retryRefs) == 0 || !r.sleep(ctx, attempt) {
			return r.finish(ctx, results, batch)
		}
		pending, index = retryRefs, retryIndex
	}
}

// finish makes sure every failed result names its reference and says when
// the retry budget ran out.
func (r *Resolver) finish(ctx context.Context, results []Result, batch []Ref) []Result {
	for i := range results {
		err := results[i].Err
		if err == nil {
			continue
		}
		if !IsPermanent(err) && ctx.Err() != nil {
			err = fmt.Errorf("gave up retrying (%w): %w", ctx.Err(), err)
		}
		var re *RefError
		if !errors.As(err, &re) {
			err = &RefError{Ref: batch[i], Err: err}
		}
		results[i].Err = err
	}
	return results
}

// sleep waits before the next attempt, with Backoff. It reports false
// when ctx ends first.
func (r *Resolver) sleep(ctx context.Context, attempt int) bool {
	base, ceiling := r.Backoff, r.MaxBackoff
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	if ceiling <= 0 {
		ceiling = 10 * time.Second
	}
	t := time.NewTimer(Backoff(attempt-1, base, ceiling))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Backoff is the wait before retry number attempt, counted from 0: base
// doubled once per attempt, capped at ceiling, then a random point between
// half and all of it, so that clients that failed together do not retry
// together.
func Backoff(attempt int, base, ceiling time.Duration) time.Duration {
	d := base << min(attempt, 20)
	if d > ceiling || d <= 0 {
		d = ceiling
	}
	return d/2 + rand.N(d/2+1)
}

func (r *Resolver) logResult(ref Ref, res Result, attempt int, took time.Duration) {
	if r.OnResult != nil {
		r.OnResult(ref, res.Err)
	}
	log := r.Logger
	if log == nil {
		return
	}
	if res.Err != nil {
		log.Warn("fetch failed", "ref", ref.Raw, "attempt", attempt,
			"permanent", IsPermanent(res.Err), "err", res.Err)
		return
	}
	attrs := []any{"ref", ref.Raw, "took", took.Round(time.Microsecond).String()}
	if res.Secret.Version != "" {
		attrs = append(attrs, "version", res.Secret.Version)
	}
	if res.Secret.Tree != nil {
		attrs = append(attrs, "values", len(res.Secret.Tree))
	}
	log.Info("fetched", attrs...)
}

func (r *Resolver) limit() int {
	if r.Limit <= 0 {
		return 8
	}
	return r.Limit
}
