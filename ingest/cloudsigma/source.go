// Package cloudsigma is the CloudSigma billing API (/api/2.0/) as a source
// of the warehouse: Basic or Digest auth, its {meta, objects} paging and
// error array, its decoders, and how a crawl walks it: the ledger by time
// windows, proved complete by its balance chain; /usage/ by days, rolled up
// per resource and hour and day; the balance, price list, burst levels,
// discounts, licences and subscriptions once a run.
package cloudsigma

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// Name is the provider's name in every provider column.
const Name = "cloudsigma"

// Provider registers the source with the engine.
var Provider = ingest.Provider{
	Name: Name,
	Keys: []ingest.Key{
		{Name: "location", Env: "CLOUDSIGMA_LOCATION", Usage: "the cloud location (zrh, fra, sjc, …): the API is https://{location}.cloudsigma.com/api/2.0/"},
		{Name: "api_url", Env: "CLOUDSIGMA_API_URL", Usage: "the API's URL instead of the location's; plain http only for loopback"},
		{Name: "username", Env: "CLOUDSIGMA_USERNAME", Secret: true, Required: true, Usage: "the account's e-mail"},
		{Name: "password", Env: "CLOUDSIGMA_PASSWORD", Secret: true, Required: true, Usage: "the account's password"},
		{Name: "auth", Env: "CLOUDSIGMA_AUTH", Default: "basic", Usage: "basic or digest (the password never crosses the wire)"},
		{Name: "usage_days", Env: "CLOUDSIGMA_USAGE_DAYS", Default: "7", Usage: "how many days back /usage/ is fetched (its five-minute samples are large)"},
	},
	New: New,
}

// Source is one CloudSigma account at one location.
type Source struct {
	owner     store.Owner
	name      string
	location  string
	client    *ingest.Client
	tuning    ingest.Tuning
	usageDays int

	mu       sync.Mutex
	currency string           // from /balance/
	balance  *decimal.Decimal // this run's, for the chain proof

	pollSize atomic.Int64 // the most /usage/ samples one poll had
	usage    usageReplay  // what a reprocess has read of /usage/
}

// New builds a source from its config entry.
func New(cfg ingest.SourceConfig, deps ingest.Deps) (ingest.Source, error) {
	owner := store.Owner{Provider: Name, Account: cfg.Account}
	location := cfg.Settings["location"]
	s := &Source{owner: owner, name: cfg.DisplayName, location: location,
		tuning: ingest.Tuning{Concurrency: cfg.Concurrency, Lookback: cfg.Lookback}}
	if deps.ReplayOnly {
		return s, nil
	}
	user, pass := cfg.Settings["username"], cfg.Settings["password"]
	if user == "" || pass == "" {
		return nil, fmt.Errorf("%w: no credentials: set username_file and password_file (or CLOUDSIGMA_USERNAME / CLOUDSIGMA_PASSWORD, or their _FILE)", ingest.ErrConfig)
	}
	if strings.ContainsAny(user+pass, "\r\n\x00") {
		return nil, fmt.Errorf("%w: the username or password holds a line break or NUL, which no header can carry", ingest.ErrConfig)
	}
	apiURL := cfg.Settings["api_url"]
	switch {
	case apiURL == "" && location == "":
		return nil, fmt.Errorf("%w: set location (or CLOUDSIGMA_LOCATION) or api_url", ingest.ErrConfig)
	case apiURL == "":
		if strings.ContainsAny(location, "/:@?#. ") {
			return nil, fmt.Errorf("%w: location %q is not a location name (zrh, fra, …)", ingest.ErrConfig, location)
		}
		apiURL = "https://" + location + ".cloudsigma.com/api/2.0/"
	}
	if u, err := url.Parse(apiURL); err == nil && location == "" {
		s.location, _, _ = strings.Cut(u.Hostname(), ".")
	}
	days := cfg.Settings["usage_days"]
	if days == "" {
		days = "7"
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: usage_days must be a whole number of days, not %q", ingest.ErrConfig, days)
	}
	s.usageDays = n
	cc := deps.Client
	cc.Owner = owner
	cc.BaseURL = apiURL
	switch a := cfg.Settings["auth"]; a {
	case "", "basic":
		cc.Auth = newBasic(user, pass)
	case "digest":
		cc.Auth = newDigest(user, pass)
		// Each request in flight holds a nonce of its own; when the API
		// expires nonces, a renewal can meet the next expiry.
		cc.Renewals = 4
	default:
		return nil, fmt.Errorf("%w: auth must be basic or digest, not %q", ingest.ErrConfig, a)
	}
	cc.ErrorEnvelope = errorEnvelope
	cc.Pacer = deps.Pacer
	if s.client, err = ingest.NewClient(cc); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Source) Owner() store.Owner     { return s.owner }
func (s *Source) Client() *ingest.Client { return s.client } // nil when replay-only
func (s *Source) Tuning() ingest.Tuning  { return s.tuning }

// Info is the account: its currency once /balance/ has said it, its
// location as the region.
func (s *Source) Info() store.AccountInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return store.AccountInfo{Owner: s.owner, DisplayName: s.name, Currency: s.currency, Region: s.location}
}

func (s *Source) setCurrency(c string) {
	s.mu.Lock()
	s.currency = c
	s.mu.Unlock()
}

func (s *Source) currencyNow() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.currency
}

// Snapshot fetches the balance first (its currency is stamped on the rest,
// and the ledger's chain must end at it), then the price list with its
// burst levels, the discounts, the licences and the subscriptions.
func (s *Source) Snapshot(ctx context.Context, r *ingest.Run) {
	s.mu.Lock()
	s.balance = nil
	s.mu.Unlock()
	resp, err := r.Fetch(ctx, "balance", ingest.Request{Path: "/balance/", Label: "balance"}, store.Window{})
	if err == nil {
		var obs store.CreditObservation
		var bal decimal.Decimal
		var cur string
		obs, bal, cur, err = decodeBalance(resp.Body, r.Now())
		if err == nil {
			s.mu.Lock()
			s.balance, s.currency = &bal, cur
			s.mu.Unlock()
			r.SeeAccount(ctx, s.Info())
			err = r.Commit(ctx, ingest.Unit{Endpoint: "balance", Writes: []store.Write{store.CreditObservations.Writes(s.owner, nil, obs)}, Raws: [][]any{resp.Raw}})
		} else {
			r.KeepRaw(ctx, [][]any{resp.Raw})
		}
	}
	if err != nil {
		r.Fail(ctx, "balance", "", err)
	}
	var wg sync.WaitGroup
	for _, ep := range []string{"pricing", "discount", "licenses", "subscriptions"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.snapshotList(ctx, r, endpoint(ep))
		}()
	}
	wg.Wait()
}

// listKeys are the fields that tell a list's objects apart, to prove a walk
// found every one.
var listKeys = map[string]string{"pricing": "id", "discount": "period", "licenses": "name", "subscriptions": "id"}

// snapshotList walks every page of a list and stores it as one unit. Pages
// are offsets into a list that can change, so the objects found are
// counted against total_count; a walk that found fewer goes again.
func (s *Source) snapshotList(ctx context.Context, r *ingest.Run, ep *Endpoint) {
	var raws [][]any
	var err error
	for walk := 1; walk <= 3; walk++ {
		var bodies [][]byte
		var found, total int
		bodies, raws, found, total, err = s.walkList(ctx, r, ep)
		if err != nil {
			break
		}
		if found < total {
			err = fmt.Errorf("paging found %d of the %d objects total_count reports", found, total)
			continue
		}
		var writes []store.Write
		for _, b := range bodies {
			w, derr := s.decodeSnapshot(ep.Name, b, r.Now())
			if derr != nil {
				err = derr
				break
			}
			writes = append(writes, w...)
		}
		if err != nil {
			break
		}
		if err = r.Commit(ctx, ingest.Unit{Endpoint: ep.Name, Writes: writes, Raws: raws}); err == nil {
			return
		}
		break
	}
	r.Fail(ctx, ep.Name, "", err)
	r.KeepRaw(ctx, raws)
}

// walkList fetches a list's pages until a short one.
func (s *Source) walkList(ctx context.Context, r *ingest.Run, ep *Endpoint) (bodies [][]byte, raws [][]any, found, total int, err error) {
	seen := map[string]bool{}
	for offset := 0; ; offset += ep.Limit {
		q := url.Values{"limit": {strconv.Itoa(ep.Limit)}, "offset": {strconv.Itoa(offset)}}
		resp, err := r.Fetch(ctx, ep.Name, ingest.Request{Path: ep.Path, Query: q, Label: ep.Name}, store.Window{})
		if err != nil {
			return nil, raws, 0, 0, fmt.Errorf("offset %d: %w", offset, err)
		}
		raws = append(raws, resp.Raw)
		l, err := openList(resp.Body)
		if err != nil {
			return nil, raws, 0, 0, fmt.Errorf("offset %d: %w", offset, err)
		}
		if offset == 0 {
			total = l.total
		}
		for _, o := range l.objects {
			if k, ok := o.Get(listKeys[ep.Name]).(string); ok {
				seen[k] = true
			}
		}
		bodies = append(bodies, resp.Body)
		if len(l.objects) < ep.Limit {
			return bodies, raws, len(seen), total, nil
		}
	}
}

// decodeSnapshot decodes a page of a point-in-time list.
func (s *Source) decodeSnapshot(name string, body []byte, observed time.Time) ([]store.Write, error) {
	switch name {
	case "pricing":
		prices, levels, err := decodePricing(body, observed)
		return []store.Write{store.CloudSigmaPrices.Writes(s.owner, nil, prices...), store.CloudSigmaBurstLevels.Writes(s.owner, nil, levels...)}, err
	case "discount":
		d, err := decodeDiscounts(body)
		return []store.Write{store.CloudSigmaDiscounts.Writes(s.owner, nil, d...)}, err
	case "licenses":
		l, err := decodeLicences(body)
		return []store.Write{store.CloudSigmaLicences.Writes(s.owner, nil, l...)}, err
	case "subscriptions":
		sub, err := decodeSubscriptions(body, s.currencyNow())
		return []store.Write{store.CloudSigmaSubscriptions.Writes(s.owner, nil, sub...)}, err
	}
	return nil, fmt.Errorf("no endpoint named %q", name)
}

// Month walks one billing month of the ledger and, for the days within
// usage_days, of /usage/.
func (s *Source) Month(ctx context.Context, r *ingest.Run, w store.Window) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.usageMonth(ctx, r, w)
	}()
	s.ledgerMonth(ctx, r, w)
	wg.Wait()
}

// Replay decodes a stored payload as the crawl did. A usage page is
// rolled up with the others of its day, written by ReplayDone: a day's
// rows need every page of the day, and a payload is one.
func (s *Source) Replay(p ingest.Payload) ([]store.Write, error) {
	switch p.Endpoint {
	case "balance":
		obs, _, cur, err := decodeBalance(p.Body, p.Observed)
		if err != nil {
			return nil, err
		}
		s.setCurrency(cur)
		return []store.Write{store.CreditObservations.Writes(s.owner, nil, obs)}, nil
	case "ledger":
		entries, _, err := decodeLedger(p.Body, s.currencyNow())
		if err != nil {
			return nil, err
		}
		rows := make([]store.CloudSigmaLedgerEntry, len(entries))
		for i, e := range entries {
			rows[i] = e.row
		}
		return []store.Write{store.CloudSigmaLedgerEntries.Writes(s.owner, nil, rows...)}, nil
	case "usage":
		return nil, s.usage.add(p.Body, p.Params)
	case ledgerAnchor:
		return nil, nil
	}
	return s.decodeSnapshot(p.Endpoint, p.Body, p.Observed)
}

// ReplayDone is the usage of every day a reprocess replayed, once it has
// replayed every payload.
func (s *Source) ReplayDone() []store.Write { return s.usage.writes(s.owner) }
