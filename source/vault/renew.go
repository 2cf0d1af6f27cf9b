package vault

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/envwrap/envwrap/source"
)

// keepToken keeps envwrap's own token valid until Close: it renews the
// token while Vault allows and, when renewal fails or the max TTL nears,
// logs in again. The old token stays in use until the new one works.
func (s *Source) keepToken(auth *api.Secret) {
	defer s.stopped.Done()
	for s.untilExpiry(auth) {
		next := s.reloginUntilStopped(auth)
		if next == nil {
			return
		}
		auth = next
	}
}

// untilExpiry waits until auth's token must be replaced and reports true
// then, or false when the Source is closed first. A token without expiry
// (a root token) never needs replacing.
func (s *Source) untilExpiry(auth *api.Secret) bool {
	if auth.Auth.LeaseDuration <= 0 {
		<-s.stop
		return false
	}
	if !auth.Auth.Renewable {
		// Replace it at 2/3 to 5/6 of its life.
		life := ttl(auth)
		d := life*2/3 + rand.N(life/6+1)
		return sleep(context.Background(), s.stop, d)
	}
	return s.watch(auth)
}

// watch renews auth's token with the api's LifetimeWatcher until the
// watcher gives up: renewal failed, or the max TTL is within its grace.
func (s *Source) watch(auth *api.Secret) bool {
	w, err := s.client.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: auth})
	if err != nil {
		s.log.Warn("vault: cannot renew the token", "err", err)
		return sleep(context.Background(), s.stop, ttl(auth)*2/3)
	}
	go w.Start()
	defer w.Stop()
	for {
		select {
		case <-s.stop:
			return false
		case r := <-w.RenewCh():
			s.log.Debug("vault: token renewed", "ttl", ttl(r.Secret).String())
		case err := <-w.DoneCh():
			if err != nil {
				s.log.Warn("vault: token renewal failed; logging in again", "err", err)
			} else {
				s.log.Info("vault: token nears its max TTL; logging in again")
			}
			return true
		}
	}
}

// reloginUntilStopped logs in again, retrying with backoff, until it
// works or the Source is closed (nil). A token that was given, rather
// than obtained by logging in, can only be replaced when its file holds a
// new one.
func (s *Source) reloginUntilStopped(old *api.Secret) *api.Secret {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for attempt := 0; ; attempt++ {
		auth, err := s.login(ctx)
		switch {
		case err == nil && s.method() == MethodToken &&
			auth.Auth.ClientToken == old.Auth.ClientToken:
			s.log.Warn("vault: token nears expiry", "addr", s.cfg.Address,
				"err", errCannotRelogin)
			<-s.stop
			return nil
		case err == nil:
			s.log.Info("vault: logged in again", "method", s.method(),
				"ttl", ttl(auth).String())
			return auth
		}
		s.log.Warn("vault: login failed; retrying", "attempt", attempt+1, "err", err)
		if !sleep(ctx, s.stop, source.Backoff(attempt, time.Second, 30*time.Second)) {
			return nil
		}
	}
}
