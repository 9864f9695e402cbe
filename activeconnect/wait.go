package activeconnect

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultMaxRetries is how many polls in a row may fail transiently before Wait gives up.
const DefaultMaxRetries = 10

// DefaultMaxBackoff caps the pause between polls after transient failures.
const DefaultMaxBackoff = 30 * time.Second

// WaitOption configures Session.Wait.
type WaitOption func(*waitConfig)

type waitConfig struct {
	onChange   func(SessionStatus)
	onRetry    func(err error, delay time.Duration)
	sleep      func(ctx context.Context, d time.Duration) error
	maxRetries int
	maxBackoff time.Duration
}

// OnStatusChange calls f each time a poll sees a status different from the one before, from the
// goroutine that called Wait.
func OnStatusChange(f func(SessionStatus)) WaitOption {
	return func(c *waitConfig) { c.onChange = f }
}

// OnRetry calls f after each poll that failed transiently, with the error and the pause before the
// next poll, from the goroutine that called Wait.
func OnRetry(f func(err error, delay time.Duration)) WaitOption {
	return func(c *waitConfig) { c.onRetry = f }
}

// WithMaxRetries sets how many polls in a row may fail transiently before Wait returns the last
// error (default DefaultMaxRetries); a negative n retries until the context ends.
func WithMaxRetries(n int) WaitOption {
	return func(c *waitConfig) { c.maxRetries = n }
}

// WithMaxBackoff caps the pause after transient failures (default DefaultMaxBackoff). A
// Retry-After from the service is honoured even when it is longer.
func WithMaxBackoff(d time.Duration) WaitOption {
	return func(c *waitConfig) { c.maxBackoff = d }
}

// WithSleep replaces how Wait pauses between polls. sleep must return early with the context's
// error when ctx ends. Tests use it to advance a virtual clock instead of sleeping.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) WaitOption {
	return func(c *waitConfig) { c.sleep = sleep }
}

// Wait polls the session's status every interval until the phone has decided, that is until the
// status is no longer pending or identifying, and returns nil; check Active or Failed then.
//
// Wait polls at least once whenever the session has started and its status is not final, because
// a status seen earlier (from a cookie or file, say) may be stale: a stored active may since have
// become walkaway or closed. Only a final status (timeout, cancelled, failed, closed), which the
// service never changes again, and a session that did not start return at once without a request.
//
// A poll that fails transiently (a 429 or 5xx answer, or no complete answer: connection refused or
// dropped, or the HTTP client's Timeout passed) is retried after a pause that doubles from interval
// up to the maximum backoff, or after the Retry-After the service sent; WithMaxRetries failures in
// a row end the wait with the last error. Any other error ends it at once, and so does the end of ctx, with an error that wraps
// ctx.Err().
func (s *Session) Wait(ctx context.Context, interval time.Duration, opts ...WaitOption) error {
	if interval <= 0 {
		return fmt.Errorf("wait for session: the poll interval must be positive, not %s", interval)
	}
	cfg := waitConfig{sleep: sleepContext, maxRetries: DefaultMaxRetries, maxBackoff: DefaultMaxBackoff}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	failures := 0
	mustPoll := s.Started() && !s.Status.final()
	for mustPoll || s.InProgress() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("wait for session (still %s): %w", s.Status, err)
		}
		before := s.Status
		_, err := s.Refresh(ctx)
		delay := interval
		switch {
		case err == nil:
			failures, mustPoll = 0, false
			if s.Status != before && cfg.onChange != nil {
				cfg.onChange(s.Status)
			}
			if !s.InProgress() {
				return nil
			}
		case ctx.Err() != nil:
			return fmt.Errorf("wait for session (still %s): %w", s.Status, ctx.Err())
		case !IsTemporary(err):
			return fmt.Errorf("wait for session: %w", err)
		default:
			failures++
			if cfg.maxRetries >= 0 && failures > cfg.maxRetries {
				return fmt.Errorf("wait for session: giving up after %d failed polls in a row: %w", failures, err)
			}
			delay = backoff(interval, failures, cfg.maxBackoff)
			var apiErr *APIError
			if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
				delay = apiErr.RetryAfter
			}
			if cfg.onRetry != nil {
				cfg.onRetry(err, delay)
			}
		}
		if err := cfg.sleep(ctx, delay); err != nil {
			return fmt.Errorf("wait for session (still %s): %w", s.Status, err)
		}
	}
	return nil
}

// backoff is interval doubled for each failure after the first, capped at ceiling (but never
// below interval).
func backoff(interval time.Duration, failures int, ceiling time.Duration) time.Duration {
	d := interval
	for i := 1; i < failures && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return max(d, interval)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
