package vault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/envwrap/envwrap/source"
)

// Renew extends lease by increment (Vault may grant less, up to the
// lease's max TTL) and returns what was granted. The value stays the
// same: a renewal never issues new credentials.
func (s *Source) Renew(ctx context.Context, lease source.Lease, increment time.Duration) (
	time.Duration, error) {
	if lease.ID == "" {
		return 0, source.Permanent(errors.New("vault: renew: the secret has no lease"))
	}
	got, err := s.client.Sys().RenewWithContext(ctx, lease.ID, int(increment.Seconds()))
	if err != nil {
		return 0, s.fail("renew lease", lease.ID, err)
	}
	if got == nil {
		return 0, fmt.Errorf("vault: renew lease %s at %s: empty answer",
			lease.ID, s.cfg.Address)
	}
	granted := time.Duration(got.LeaseDuration) * time.Second
	s.extended(lease, granted)
	return granted, nil
}

// Revoke ends lease at once.
func (s *Source) Revoke(ctx context.Context, lease source.Lease) error {
	if lease.ID == "" {
		return nil
	}
	if err := s.client.Sys().RevokeWithContext(ctx, lease.ID); err != nil {
		return s.fail("revoke lease", lease.ID, err)
	}
	s.leaseMu.Lock()
	delete(s.leases, lease.ID)
	s.leaseMu.Unlock()
	return nil
}

// heldLease is a lease this Source fetched and when it runs out, as far
// as Vault last said; zero when Vault gave it no duration.
type heldLease struct {
	lease   source.Lease
	expires time.Time
}

func (h heldLease) alive(now time.Time) bool {
	return h.expires.IsZero() || h.expires.After(now)
}

// remember records a lease just fetched, and forgets those that have run
// out: a replaced lease is never renewed again, and without this a long
// run would hold every lease it ever had, and revoke them all at exit.
func (s *Source) remember(l source.Lease) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	now := time.Now()
	for id, h := range s.leases {
		if !h.alive(now) {
			delete(s.leases, id)
		}
	}
	h := heldLease{lease: l}
	if l.Duration > 0 {
		h.expires = now.Add(l.Duration)
	}
	s.leases[l.ID] = h
}

// extended records that Vault renewed lease for granted from now.
func (s *Source) extended(lease source.Lease, granted time.Duration) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if h, ok := s.leases[lease.ID]; ok {
		h.expires = time.Now().Add(granted)
		s.leases[lease.ID] = h
	}
}

// RevokeAll revokes every lease this Source fetched that has neither
// been revoked nor run out, each within a short bound, so that a Vault
// gone away does not hold envwrap's exit for long. Failures are logged.
func (s *Source) RevokeAll(ctx context.Context) {
	s.leaseMu.Lock()
	leases := make([]source.Lease, 0, len(s.leases))
	now := time.Now()
	for _, h := range s.leases {
		if h.alive(now) {
			leases = append(leases, h.lease)
		}
	}
	s.leaseMu.Unlock()
	for _, l := range leases {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := s.Revoke(ctx, l)
		cancel()
		if err != nil {
			s.log.Warn("lease not revoked", "lease_id", l.ID, "err", err)
			continue
		}
		s.log.Info("lease revoked", "lease_id", l.ID)
	}
}
