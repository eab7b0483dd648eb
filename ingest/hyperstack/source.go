// Package hyperstack is the Hyperstack (NexGenCloud infrahub) billing API
// as a source of the warehouse: its endpoint catalog, the api_key header,
// its paging and windows, its error envelope, its decoders, and how a
// crawl walks it (lists, then every resource a list names).
package hyperstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/sourcegraph/conc/pool"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// Name is the provider's name in every provider column.
const Name = "hyperstack"

// DefaultBaseURL is the live API.
const DefaultBaseURL = "https://infrahub-api.nexgencloud.com/v1"

// perPage is the page size of list walks: the API's cap.
const perPage = 100

// Provider registers the source with the engine.
var Provider = ingest.Provider{
	Name: Name,
	Keys: []ingest.Key{
		{Name: "api_url", Env: "HYPERSTACK_API_URL", Default: DefaultBaseURL, Usage: "billing API base URL; plain http only for loopback"},
		{Name: "api_key", Env: "HYPERSTACK_API_KEY", Secret: true, Required: true, Usage: "API key, sent as the api_key header"},
	},
	// The live API allows 500 requests a minute per source IP, all
	// organisations together.
	RateGroup: true,
	New:       New,
}

// Source is one Hyperstack organisation.
type Source struct {
	owner  store.Owner
	name   string
	client *ingest.Client
	tuning ingest.Tuning

	usageMu sync.Mutex
	usage   map[string]map[string]store.Window // per run: family → id → lifetime, from the usage endpoint
}

// New builds a source from its config entry.
func New(cfg ingest.SourceConfig, deps ingest.Deps) (ingest.Source, error) {
	owner := store.Owner{Provider: Name, Account: cfg.Account}
	if deps.ReplayOnly {
		return &Source{owner: owner, name: cfg.DisplayName}, nil
	}
	key := cfg.Settings["api_key"]
	if key == "" {
		return nil, fmt.Errorf("%w: no API key: set api_key_file (or HYPERSTACK_API_KEY / HYPERSTACK_API_KEY_FILE)", ingest.ErrConfig)
	}
	if strings.ContainsAny(key, "\r\n\x00") {
		return nil, fmt.Errorf("%w: the API key holds a line break or NUL, which no header can carry", ingest.ErrConfig)
	}
	apiURL := cfg.Settings["api_url"]
	if apiURL == "" {
		apiURL = DefaultBaseURL
	}
	cc := deps.Client
	cc.Owner = owner
	cc.BaseURL = apiURL
	cc.Authorize = func(req *http.Request) { req.Header.Set("api_key", key) }
	cc.ErrorEnvelope = errorEnvelope
	cc.Pacer = deps.Pacer
	client, err := ingest.NewClient(cc)
	if err != nil {
		return nil, err
	}
	return &Source{owner: owner, name: cfg.DisplayName, client: client, tuning: ingest.Tuning{Concurrency: cfg.Concurrency, Lookback: cfg.Lookback}}, nil
}

func (s *Source) Owner() store.Owner     { return s.owner }
func (s *Source) Client() *ingest.Client { return s.client } // nil when replay-only
func (s *Source) Tuning() ingest.Tuning  { return s.tuning }
func (s *Source) Info() store.AccountInfo {
	return store.AccountInfo{Owner: s.owner, DisplayName: s.name, Currency: "USD"}
}

// Snapshot fetches the point-in-time endpoints: usage, last-day cost,
// credit, thresholds.
func (s *Source) Snapshot(ctx context.Context, r *ingest.Run) {
	s.usageMu.Lock()
	s.usage = map[string]map[string]store.Window{}
	s.usageMu.Unlock()
	p := pool.New().WithMaxGoroutines(r.Concurrency())
	for _, ep := range Catalog {
		if ep.Kind == KindUsage || ep.Kind == KindLastDay || ep.Kind == KindCredit || ep.Kind == KindThresholds {
			p.Go(func() { s.simple(ctx, r, ep, store.Window{}) })
		}
	}
	p.Wait()
}

// Month fetches one billing month: the lists, the organisation's history,
// then every resource the lists (or the usage) name.
func (s *Source) Month(ctx context.Context, r *ingest.Run, w store.Window) {
	// Requests in flight are bounded by the run (Fetch), not by these
	// pools: a family's units start as soon as its list is in, while other
	// lists are still paging, and there are more unit workers than slots,
	// so a slot does not idle while a worker decodes or waits for the
	// writer.
	units := pool.New().WithMaxGoroutines(2 * r.Concurrency())
	lists := pool.New()
	for _, ep := range Catalog {
		switch ep.Kind {
		case KindList:
			r.ListPlanned()
			lists.Go(func() {
				es, ok := s.list(ctx, r, ep, w)
				r.ListDone()
				if !ok || ep.Family == "contract" {
					return // contracts have no per-resource endpoints
				}
				es = append(es, s.missedByList(ep.Family, es, w)...)
				r.UnitsPlanned(len(es))
				for _, e := range es {
					units.Go(func() {
						defer r.UnitDone()
						if !r.Draining() {
							s.unit(ctx, r, ep.Family, e, w)
						}
					})
				}
			})
		case KindOrg, KindOrgGraph:
			lists.Go(func() { s.simple(ctx, r, ep, w) })
		}
	}
	lists.Wait()
	units.Wait()
}

// missedByList returns the VMs and volumes the usage endpoint knows to have
// existed in w that the list did not name.
func (s *Source) missedByList(family string, listed []listEntry, w store.Window) []listEntry {
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	var out []listEntry
	for id, life := range s.usage[family] {
		overlaps := life.Start.Before(w.End) && (life.End.IsZero() || life.End.After(w.Start))
		if overlaps && !slices.ContainsFunc(listed, func(e listEntry) bool { return e.id == id }) {
			out = append(out, listEntry{id: id, fingerprint: "usage:" + life.Start.String() + life.End.String()})
		}
	}
	return out
}

// request is one fetch of the crawl, with what it was for.
type request struct {
	ep     *Endpoint
	id     string
	window store.Window
	page   int
}

func (q request) path() string {
	if q.ep.Param == "" {
		return q.ep.Path
	}
	return strings.Replace(q.ep.Path, "{"+q.ep.Param+"}", url.PathEscape(q.id), 1)
}

func (q request) query() url.Values {
	v := url.Values{}
	for k, vs := range q.ep.Query {
		v[k] = vs
	}
	if q.ep.Windowed {
		v.Set("start_date", q.window.Start.UTC().Format("2006-01-02T15:04:05"))
		v.Set("end_date", q.window.End.UTC().Format("2006-01-02T15:04:05"))
	}
	if q.ep.Paged {
		v.Set("page", fmt.Sprint(q.page))
		v.Set("per_page", fmt.Sprint(perPage))
	}
	return v
}

// fetch gets one response and decodes it. It returns the raw payload row
// whenever a body arrived, even if decoding failed.
func (s *Source) fetch(ctx context.Context, r *ingest.Run, q request) (decoded, []any, error) {
	label := q.ep.Family
	if label == "" {
		label = q.ep.Name
	}
	resp, err := r.Fetch(ctx, q.ep.Name, ingest.Request{Path: q.path(), Query: q.query(), Label: label}, q.window)
	if err != nil {
		return decoded{}, nil, err
	}
	runID := r.ID()
	f := &fetched{ep: q.ep, owner: s.owner, id: q.id, window: q.window, observed: r.Now(), current: !q.window.End.Before(r.Now()),
		body: resp.Body, runID: &runID}
	d, err := decode(f)
	return d, resp.Raw, err
}

// simple fetches an endpoint with no discovery behind it and stores it.
func (s *Source) simple(ctx context.Context, r *ingest.Run, ep *Endpoint, w store.Window) {
	d, raw, err := s.fetch(ctx, r, request{ep: ep, window: w})
	if err != nil {
		r.Fail(ctx, ep.Name, "", err)
		r.KeepRaw(ctx, [][]any{raw})
		return
	}
	if ep.Kind == KindUsage {
		s.rememberUsage(d)
	}
	if err := r.Commit(ctx, ingest.Unit{Endpoint: ep.Name, Writes: d.writes, Raws: [][]any{raw}}); err != nil {
		r.Fail(ctx, ep.Name, "", err)
	}
}

// rememberUsage keeps the lifetimes of the VMs and volumes the usage
// endpoint names, for missedByList.
func (s *Source) rememberUsage(d decoded) {
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	for _, l := range d.lifetimes {
		if s.usage[l.family] == nil {
			s.usage[l.family] = map[string]store.Window{}
		}
		s.usage[l.family][l.id] = l.life
	}
}

// list walks every page of a family's history for w and stores what the
// list says. It pages by what each response says of itself (pagination's
// page and pages), not by what it asked for: the live API caps per_page
// below what the crawler asks, so a page shorter than asked is not the
// last. A response without pagination ends the list at an empty page (or
// one that names nothing new). Items are de-duplicated by id; when the
// reported total changes between pages (the live API pages over live
// state), the list is walked once more and the union is kept.
func (s *Source) list(ctx context.Context, r *ingest.Run, ep *Endpoint, w store.Window) ([]listEntry, bool) {
	seen := map[string]listEntry{}
	var order []string
	var writes []store.Write
	var raws [][]any
	reported, walks := -1, 0
	for walks < 2 {
		walks++
		stable := true
		first := -1
		for page := 1; page <= maxPages; page++ {
			d, raw, err := s.fetch(ctx, r, request{ep: ep, window: w, page: page})
			if raw != nil {
				raws = append(raws, raw)
			}
			if err != nil && noDataAnswer(err) {
				break // {status: false, "No cluster data found …"} as a 404: an empty list
			}
			if err != nil {
				r.Fail(ctx, ep.Name, "", fmt.Errorf("page %d: %w", page, err))
				r.KeepRaw(ctx, raws)
				return nil, false
			}
			writes = append(writes, d.writes...)
			fresh := 0
			for _, e := range d.entries {
				if _, dup := seen[e.id]; !dup {
					order = append(order, e.id)
					fresh++
				}
				seen[e.id] = e
			}
			if first < 0 {
				first = d.total
			} else if d.total != first {
				stable = false
			}
			if !ep.Paged || !morePages(d, page, fresh, len(seen)) {
				break
			}
		}
		reported = first
		if stable {
			break
		}
		r.Logger().InfoContext(ctx, "list changed while paging; walking it again", "endpoint", ep.Name)
	}
	if err := r.Commit(ctx, ingest.Unit{Endpoint: ep.Name, Writes: writes, Raws: raws}); err != nil {
		r.Fail(ctx, ep.Name, "", err)
		return nil, false
	}
	if len(seen) < reported {
		plural := "s"
		if walks == 1 {
			plural = ""
		}
		r.Fail(ctx, ep.Name, "", fmt.Errorf("the list reports %d resources but paging found %d in %d walk%s", reported, len(seen), walks, plural))
	}
	ids := make([]string, 0, len(order))
	out := make([]listEntry, 0, len(order))
	for _, id := range order {
		ids = append(ids, id)
		out = append(out, seen[id])
	}
	r.RecordSightings(ctx, ep.Family, ids)
	return out, true
}

// maxPages bounds one walk of a list, should an API answer every page
// number with another page that names something new.
const maxPages = 100_000

// morePages reports whether a list has a page after page, by what its
// response says: pagination's pages (of the page it says it answered), or
// its total when it gives no page count; without pagination, until a page
// is empty or names nothing new.
func morePages(d decoded, page, fresh, seen int) bool {
	// The page it says it answered, unless it says an earlier one than was
	// asked (the docs' examples say page 1 whatever was asked): walking on
	// from that would never end.
	page = max(page, d.page)
	switch {
	case d.paged && d.pages > 0:
		return page < d.pages
	case d.paged && d.total > 0:
		return seen < d.total && len(d.entries) > 0
	}
	return len(d.entries) > 0 && fresh > 0
}

// noDataAnswer reports whether err is the API saying, with a 404, that a
// list has no data for the window ("No cluster data found for …").
func noDataAnswer(err error) bool {
	var apiErr *ingest.APIError
	return errors.As(err, &apiErr) && apiErr.NotFound() && noData(apiErr.Message)
}

// unitEndpoints are the per-resource endpoints of a family.
func unitEndpoints(family string) []*Endpoint {
	var out []*Endpoint
	for _, ep := range Catalog {
		if ep.Family == family && ep.Param != "" {
			out = append(out, ep)
		}
	}
	return out
}

// unit fetches everything about one resource for one month and stores it
// in one transaction, unless the list says nothing changed since the last
// fetch (and that fetch is recent enough).
func (s *Source) unit(ctx context.Context, r *ingest.Run, family string, e listEntry, w store.Window) {
	key := fmt.Sprintf("%s/%s/%s", family, e.id, w.Start.Format("2006-01"))
	if r.Unchanged(key, e.fingerprint) {
		return
	}
	var writes []store.Write
	var raws [][]any
	if e.cost != nil {
		// First, so that the detail's row for the same month refines it.
		writes = append(writes, store.ResourceMonthCosts.Writes(s.owner, nil, *e.cost))
	}
	eps := unitEndpoints(family)
	for _, ep := range eps {
		d, raw, err := s.fetch(ctx, r, request{ep: ep, id: e.id, window: w})
		if raw != nil {
			raws = append(raws, raw)
		}
		var apiErr *ingest.APIError
		if errors.As(err, &apiErr) && apiErr.NotFound() {
			if e.cost == nil { // named by the usage endpoint only: gone
				r.Logger().InfoContext(ctx, "resource gone", "endpoint", ep.Name, "resource_id", e.id)
				return
			}
			// The list names it and bills it (the docs' bucket does this):
			// what the list says stays, the rest is what answered.
			r.Logger().InfoContext(ctx, "the list names a resource this endpoint does not know; keeping the list's figures",
				"endpoint", ep.Name, "resource_id", e.id)
			continue
		}
		if err != nil {
			r.Fail(ctx, ep.Name, e.id, err)
			r.KeepRaw(ctx, raws)
			return
		}
		writes = append(writes, d.writes...)
	}
	r.Submit(ctx, ingest.Unit{Endpoint: eps[0].Name, ResourceID: e.id, Writes: writes, Raws: raws,
		State: &ingest.UnitState{Key: key, Fingerprint: e.fingerprint}})
}

// VolatileParams: successive runs fetch the current month up to their own
// now, so its queries differ in end_date only, and the newest covers the
// older.
func (s *Source) VolatileParams() string { return `end_date=[^&]*` }

// Replay decodes a stored payload as the crawl did when it fetched it.
func (s *Source) Replay(p ingest.Payload) ([]store.Write, error) {
	ep := endpoint(p.Endpoint)
	if ep == nil {
		return nil, fmt.Errorf("no endpoint named %q in this version's catalog", p.Endpoint)
	}
	f := &fetched{ep: ep, owner: s.owner, observed: p.Observed, window: p.Window, body: p.Body, replay: true}
	if !p.Window.Start.IsZero() {
		f.current = !f.window.End.Before(f.observed)
	}
	if ep.Param != "" {
		var err error
		if f.id, err = pathParam(ep.Path, p.Params); err != nil {
			return nil, err
		}
	}
	d, err := decode(f)
	return d.writes, err
}

// pathParam finds the value of a path's {param} in a fetched path.
func pathParam(pattern, params string) (string, error) {
	path, _, _ := strings.Cut(params, "?")
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return "", fmt.Errorf("%q does not match %s", path, pattern)
	}
	for i, seg := range want {
		if strings.HasPrefix(seg, "{") {
			return url.PathUnescape(got[i])
		}
	}
	return "", fmt.Errorf("%s has no parameter", pattern)
}
