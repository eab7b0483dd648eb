// Package soracom is the Soracom billing API as a source of the warehouse:
// the auth key login and its token, the per-path rate limit headers, the
// bills, daily totals, summaries and coupons, and the detailed billing CSV
// of every month (exported, polled, downloaded from a signed link, parsed).
//
// Soracom publishes a month twice: preliminary while it runs, then, one to
// three business days after it ends, closed. A preliminary month is
// fetched again every run; a closed month once (again on backfill
// --refetch). See migrations/00005_soracom.sql for how accrual and
// corrections are told apart.
package soracom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// Name is the provider's name in every provider column.
const Name = "soracom"

// BaseURLs are the live API of each coverage.
var BaseURLs = map[string]string{"jp": "https://api.soracom.io/v1", "g": "https://g.api.soracom.io/v1"}

// coverages are each coverage's currency and the time zone its days and
// months are cut in.
var coverages = map[string]struct {
	currency string
	zone     string
}{"jp": {"JPY", "Asia/Tokyo"}, "g": {"USD", "UTC"}}

// DefaultExportPatience is how long a run waits for an export to be ready.
const DefaultExportPatience = 10 * time.Minute

// Provider registers the source with the engine.
var Provider = ingest.Provider{
	Name: Name,
	Keys: []ingest.Key{
		{Name: "coverage", Env: "SORACOM_COVERAGE", Default: "jp", Usage: "jp (Japan coverage, JPY, api.soracom.io) or g (global coverage, USD, g.api.soracom.io)"},
		{Name: "api_url", Env: "SORACOM_API_URL", Usage: "API base URL (default: the coverage's); plain http only for loopback"},
		{Name: "auth_key_id", Env: "SORACOM_AUTH_KEY_ID", Secret: true, Required: true, Usage: "auth key id (keyId-…) of a SAM user or the root account"},
		{Name: "auth_key", Env: "SORACOM_AUTH_KEY", Secret: true, Required: true, Usage: "the auth key (secret-…)"},
		{Name: "export_patience", Env: "SORACOM_EXPORT_PATIENCE", Default: DefaultExportPatience.String(), Usage: "how long a run waits for a CSV export; past it the month is an error, fetched again next run"},
	},
	New: New,
}

// Source is one Soracom account in one coverage.
type Source struct {
	owner    store.Owner
	name     string
	coverage string
	loc      *time.Location
	client   *ingest.Client
	auth     *auth
	clock    ingest.Clock
	patience time.Duration
	tuning   ingest.Tuning

	mu   sync.Mutex
	done map[string]bool // months handled in this run
}

// New builds a source from its config entry.
func New(cfg ingest.SourceConfig, deps ingest.Deps) (ingest.Source, error) {
	owner := store.Owner{Provider: Name, Account: cfg.Account}
	coverage := cfg.Settings["coverage"]
	if coverage == "" {
		coverage = "jp"
	}
	cov, ok := coverages[coverage]
	if !ok {
		return nil, fmt.Errorf("%w: coverage %q: want jp or g", ingest.ErrConfig, coverage)
	}
	loc, err := time.LoadLocation(cov.zone)
	if err != nil {
		return nil, fmt.Errorf("%w: the time zone %s: %v", ingest.ErrConfig, cov.zone, err)
	}
	s := &Source{owner: owner, name: cfg.DisplayName, coverage: coverage, loc: loc, patience: DefaultExportPatience}
	if deps.ReplayOnly {
		return s, nil
	}
	a := &auth{keyID: cfg.Settings["auth_key_id"], key: cfg.Settings["auth_key"]}
	if a.keyID == "" || a.key == "" {
		return nil, fmt.Errorf("%w: no auth key: set auth_key_id_file and auth_key_file (or SORACOM_AUTH_KEY_ID / SORACOM_AUTH_KEY, or their _FILE)", ingest.ErrConfig)
	}
	if p := cfg.Settings["export_patience"]; p != "" {
		if s.patience, err = time.ParseDuration(p); err != nil || s.patience <= 0 {
			return nil, fmt.Errorf("%w: export_patience: want a duration like 10m, got %q", ingest.ErrConfig, p)
		}
	}
	apiURL := cfg.Settings["api_url"]
	if apiURL == "" {
		apiURL = BaseURLs[coverage]
	}
	cc := deps.Client
	cc.Owner, cc.BaseURL, cc.Pacer = owner, apiURL, deps.Pacer
	cc.Authorize = a.authorize
	cc.ErrorEnvelope = errorEnvelope
	cc.PathLimits = &ingest.PathLimits{Key: func(q ingest.Request) string { return rateKey(q.Method, q.Path) }, Quota: quota}
	// A month's CSV of a large account is tens of megabytes.
	cc.MaxBodyBytes = max(cc.MaxBodyBytes, 2<<30)
	if s.clock = cc.Clock; s.clock == nil {
		s.clock = ingest.RealClock
	}
	if s.client, err = ingest.NewClient(cc); err != nil {
		return nil, err
	}
	a.client = s.client
	s.auth = a
	s.tuning = ingest.Tuning{Concurrency: cfg.Concurrency, Lookback: cfg.Lookback}
	return s, nil
}

func (s *Source) Owner() store.Owner     { return s.owner }
func (s *Source) Client() *ingest.Client { return s.client } // nil when replay-only
func (s *Source) Tuning() ingest.Tuning  { return s.tuning }

// Info is the account as billing.accounts records it: the operator id is
// known once a run has logged in.
func (s *Source) Info() store.AccountInfo {
	info := store.AccountInfo{Owner: s.owner, DisplayName: s.name, Currency: coverages[s.coverage].currency, Region: s.coverage}
	if s.auth != nil {
		info.ProviderAccountID = s.auth.operator()
	}
	return info
}

// monthKey is a month's unit in the fetch state. Its fingerprint is the
// bill's state when it was fetched, temporary or closed, then how many
// parts its CSV was written in and by which run: "closed 32 parts, run
// 7". Each part records partState of that run under partKey: a month is
// complete (not fetched again) only when it is closed and every part of
// the run that wrote it last is there. A part whose batch failed is not,
// even if the month's last unit was written after it. (A bare "closed"
// is a month written in one unit, before months were split.)
func monthKey(month time.Time) string { return "month/" + monthLabel(month) }

func partKey(month time.Time, i int) string {
	return fmt.Sprintf("month/%s/part/%d", monthLabel(month), i)
}

func partState(run int64) string { return fmt.Sprintf("run %d", run) }

func monthState(state string, parts int, run int64) string {
	return fmt.Sprintf("%s %d parts, %s", state, parts, partState(run))
}

// complete reports whether a month was fetched closed and written whole.
func complete(r *ingest.Run, month time.Time) bool {
	fp, _ := r.FetchedState(monthKey(month))
	state, written, split := strings.Cut(fp, " ")
	if state != "closed" || !split {
		return state == "closed"
	}
	var parts int
	var run int64
	if _, err := fmt.Sscanf(written, "%d parts, run %d", &parts, &run); err != nil {
		return false
	}
	for i := range parts {
		if got, _ := r.FetchedState(partKey(month, i)); got != partState(run) {
			return false
		}
	}
	return true
}

// Snapshot logs in, fetches what belongs to no one month (the closed
// bills, the latest figure, the summaries, the coupons) and completes the
// months that closed since a run saw them preliminary.
func (s *Source) Snapshot(ctx context.Context, r *ingest.Run) {
	s.mu.Lock()
	s.done = map[string]bool{}
	s.mu.Unlock()
	if _, err := s.auth.ensure(ctx); err != nil {
		r.Fail(ctx, "auth", "", err)
		return
	}
	if err := r.RefreshAccount(ctx); err != nil {
		r.Logger().WarnContext(ctx, "could not record the operator id", "err", err)
	}
	var closed []store.SoracomBill
	for _, name := range []string{"bills", "bills/latest", "summaries/bill_items", "summaries/sims", "coupons"} {
		ep := byName(name)
		d, raw, err := s.fetch(ctx, r, ep, ep.Path, time.Time{}, false, store.Window{})
		if err != nil {
			r.Fail(ctx, ep.Name, "", err)
			r.KeepRaw(ctx, [][]any{raw})
			continue
		}
		if err := r.Commit(ctx, ingest.Unit{Endpoint: ep.Name, Writes: d.writes, Raws: [][]any{raw}}); err != nil {
			r.Fail(ctx, ep.Name, "", err)
		}
		if name == "bills" {
			closed = d.bills
		}
	}
	// A month closes days after it ends, often after the lookback of an
	// incremental run: /bills says which did.
	for _, b := range closed {
		if _, ok := r.FetchedState(monthKey(b.BillingMonth)); ok && !complete(r, b.BillingMonth) && !r.Draining() {
			r.Logger().InfoContext(ctx, "month closed since it was fetched, or not written whole", "month", monthLabel(b.BillingMonth))
			s.month(ctx, r, b.BillingMonth, s.window(b.BillingMonth, r.Now()))
		}
	}
}

// window is the engine's window of a billing month: the calendar month,
// up to now.
func (s *Source) window(month, now time.Time) store.Window {
	end := month.AddDate(0, 1, 0)
	if end.After(now) {
		end = now
	}
	return store.Window{Start: month, End: end}
}

// Month fetches one billing month. The engine's months are UTC calendar
// months; Soracom's Japan coverage cuts them in JST: the month with the
// same name is meant.
func (s *Source) Month(ctx context.Context, r *ingest.Run, w store.Window) {
	s.month(ctx, r, ingest.Month(w.Start), w)
}

func (s *Source) month(ctx context.Context, r *ingest.Run, month time.Time, w store.Window) {
	label := monthLabel(month)
	s.mu.Lock()
	done := s.done[label]
	s.done[label] = true
	s.mu.Unlock()
	if done {
		return
	}
	if complete(r, month) && !r.Refetch() {
		r.Logger().InfoContext(ctx, "month closed and fetched before", "month", label)
		return
	}
	r.UnitsPlanned(1)
	defer r.UnitDone()
	if err := s.fetchMonth(ctx, r, month, w); err != nil {
		var apiErr *ingest.APIError
		if errors.As(err, &apiErr) && apiErr.NotFound() && apiErr.Path == "/bills/"+label {
			// Not closed yet (or no charge): nothing to store until it is.
			r.Logger().InfoContext(ctx, "no bill for the month yet", "month", label)
			return
		}
		r.Fail(ctx, "month", label, err)
	}
}

// fetchMonth fetches a month's bill, daily totals and CSV. The CSV's rows
// go to the writer a day at a time (a large account's month is hundreds
// of thousands of rows); the bill, the daily totals, the raw payloads and
// the month's fetch state come last, in the last unit, so that a month
// whose last unit is not written is fetched again (and one whose other
// units were not, see complete).
func (s *Source) fetchMonth(ctx context.Context, r *ingest.Run, month time.Time, w store.Window) error {
	label := monthLabel(month)
	billEp := byName("bills/month")
	d, billRaw, err := s.fetch(ctx, r, billEp, "/bills/"+label, month, false, w)
	if err != nil {
		r.KeepRaw(ctx, [][]any{billRaw})
		return err
	}
	if len(d.bills) != 1 || d.bills[0].State == nil || !d.bills[0].BillingMonth.Equal(month) {
		return fmt.Errorf("%w: /bills/%s answered another month", ErrMalformed, label)
	}
	closed := *d.bills[0].State == "closed"
	writes := d.writes
	raws := [][]any{billRaw}

	dailyEp := byName("bills/daily")
	dd, dailyRaw, err := s.fetch(ctx, r, dailyEp, "/bills/"+label+"/daily", month, closed, w)
	if err != nil {
		r.KeepRaw(ctx, append(raws, dailyRaw))
		return err
	}
	writes, raws = append(writes, dd.writes...), append(raws, dailyRaw)

	csvRaw, resources, parts, err := s.csv(ctx, r, month, closed, w)
	if err != nil {
		r.KeepRaw(ctx, raws)
		return err
	}
	writes = append(writes, store.Resources.Writes(s.owner, nil, resources...))
	state := "temporary"
	if closed {
		state = "closed"
	}
	r.Submit(ctx, ingest.Unit{Endpoint: "month", ResourceID: label, Writes: writes, Raws: append(raws, csvRaw),
		State: &ingest.UnitState{Key: monthKey(month), Fingerprint: monthState(state, parts, r.ID())}})
	return nil
}

// fetch gets one JSON endpoint, renewing the token once if the API says it
// is no longer good, and decodes it. It returns the raw payload row
// whenever a body arrived, even if decoding failed.
func (s *Source) fetch(ctx context.Context, r *ingest.Run, ep *Endpoint, path string, month time.Time, closed bool, w store.Window) (decoded, []any, error) {
	name := ep.Name
	if ep.Name == "bills/daily" && closed {
		name = "bills/daily/closed" // replay must know which figures were final
	}
	resp, err := s.call(ctx, func() (*ingest.Fetched, error) {
		return r.Fetch(ctx, name, ingest.Request{Method: ep.Method, Path: path, Label: ep.Name}, w)
	})
	if err != nil {
		return decoded{}, nil, err
	}
	f := &fetched{ep: ep, owner: s.owner, month: month, closed: closed, observed: r.Now(), loc: s.loc, body: resp.Body}
	out, err := ep.Decode(f)
	return out, resp.Raw, err
}

// call runs a request, logging in again once if the token was refused.
func call[T any](ctx context.Context, a *auth, do func() (T, error)) (T, error) {
	var zero T
	seen, err := a.ensure(ctx)
	if err != nil {
		return zero, err
	}
	out, err := do()
	var apiErr *ingest.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		if err := a.renew(ctx, seen); err != nil {
			return zero, err
		}
		return do()
	}
	return out, err
}

func (s *Source) call(ctx context.Context, do func() (*ingest.Fetched, error)) (*ingest.Fetched, error) {
	return call(ctx, s.auth, do)
}

// byName is a catalog entry by its name.
func byName(name string) *Endpoint {
	for _, e := range Catalog {
		if e.Name == name {
			return e
		}
	}
	panic("soracom: no endpoint " + name)
}

// Replay decodes a stored payload as the crawl did when it fetched it.
func (s *Source) Replay(p ingest.Payload) ([]store.Write, error) {
	f, err := s.replayed(p)
	if err != nil {
		return nil, err
	}
	d, err := f.ep.Decode(f)
	return d.writes, err
}

// Streams says a month's CSV is replayed as a stream (ingest.ReplayStreamer):
// whole, it is hundreds of thousands of rows.
func (s *Source) Streams(stored string) bool {
	ep := endpoint(stored)
	return ep != nil && ep.Name == "csv"
}

// ReplayEach replays a month's CSV a day at a time, as the crawl writes it.
func (s *Source) ReplayEach(p ingest.Payload, body io.Reader, emit func(store.Write) error) error {
	f, err := s.replayed(p)
	if err != nil {
		return err
	}
	if f.ep.Name != "csv" {
		return fmt.Errorf("%s is not replayed as a stream", p.Endpoint)
	}
	return replayCSV(f, body, emit)
}

// replayed is what a stored payload was fetched as: its endpoint, and the
// month it is of.
func (s *Source) replayed(p ingest.Payload) (*fetched, error) {
	ep := endpoint(p.Endpoint)
	if ep == nil {
		return nil, fmt.Errorf("no endpoint named %q in this version's catalog", p.Endpoint)
	}
	f := &fetched{ep: ep, owner: s.owner, observed: p.Observed, loc: s.loc, body: p.Body}
	switch {
	case ep.Name == "csv":
		parts := strings.Split(p.Endpoint, "/") // csv/yyyyMM[/closed]
		m, err := parseMonth(parts[1])
		if err != nil {
			return nil, err
		}
		f.month, f.closed = m, len(parts) == 3 && parts[2] == "closed"
	case ep.Name == "bills/daily":
		path, _, _ := strings.Cut(p.Params, "?")
		m, err := parseMonth(strings.TrimSuffix(strings.TrimPrefix(path, "/bills/"), "/daily"))
		if err != nil {
			return nil, err
		}
		f.month, f.closed = m, p.Endpoint == "bills/daily/closed"
	}
	return f, nil
}
