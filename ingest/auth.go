package ingest

import (
	"context"
	"net/http"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Authenticator signs requests for APIs whose credentials change during a
// run: HTTP Digest, whose nonces expire and are renewed by a 401's
// challenge. Sources with a fixed header use ClientConfig.Authorize.
type Authenticator interface {
	// Sign adds credentials to a request for the API's host. The returned
	// func (nil: none) is called once with the answer's status (0 when no
	// answer came) and headers, before the answer is used. For a 401 it
	// reports whether it took new credentials from the challenge worth
	// trying; the request is then sent once more, at once, through the
	// pacer (and, should that meet a renewing 401 too, retried with
	// backoff like a 5xx).
	Sign(req *http.Request) (answered func(status int, h http.Header) (renewed bool))
}

// SeeAccount records what a source learned of its account during the run
// (its currency, say), beyond what Info said when the run started.
func (r *Run) SeeAccount(ctx context.Context, a store.AccountInfo) {
	if err := r.c.store.SeeAccount(ctx, a); err != nil && ctx.Err() == nil {
		r.logger.WarnContext(ctx, "could not record the account", "err", err)
	}
}
