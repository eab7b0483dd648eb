package ingest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Source is one configured account of one provider: everything that is
// provider-specific. The engine (this package) runs it: the run's
// lifecycle and ledger, heartbeat, single flight, pacing, retries, raw
// payloads, unit transactions and the batching writer, reprocess,
// progress and metrics. A source knows its API: its endpoints, how it
// authenticates, pages and windows requests, what its errors look like,
// its decoders, and when a billing period is settled.
type Source interface {
	// Owner is the provider and the account name of the config.
	Owner() store.Owner
	// Info is what billing.accounts records of the account.
	Info() store.AccountInfo
	// Client is the source's API client: the engine counts its requests.
	Client() *Client
	// Snapshot fetches what belongs to no billing month (balances, what
	// runs now), once per run, before the months.
	Snapshot(ctx context.Context, r *Run)
	// Month fetches one billing month: w is the calendar month, clipped to
	// the run's now. Units go to r.Submit; the engine writes what is
	// pending when Month returns, before the next month starts.
	Month(ctx context.Context, r *Run, w store.Window)
	// Replay decodes a stored payload again, as it did when it fetched it.
	// A source may also say which parts of a query are volatile, so
	// reprocess takes the newest of queries that differ only there:
	// VolatileParams() string, a regular expression over path?query.
	Replay(p Payload) ([]store.Write, error)
}

// ReplayStreamer is a Source whose large payloads (a month's CSV of
// hundreds of thousands of rows) reprocess decodes as a stream: Streams
// says which endpoints, and ReplayEach reads the body from body (p.Body
// is nil) and hands emit the writes Replay would return, in the same
// order, as it decodes them; it stops at emit's first error. Only
// payloads that decoded when fetched are streamed: one that fails part
// way has written the writes before the failure, as its fetch did.
type ReplayStreamer interface {
	Streams(endpoint string) bool
	ReplayEach(p Payload, body io.Reader, emit func(store.Write) error) error
}

// Payload is a stored response body, for Replay.
type Payload struct {
	Endpoint string
	Params   string       // the path and query it was fetched with
	Window   store.Window // zero for point-in-time endpoints
	Observed time.Time    // when it was (last) fetched
	Body     []byte       // only valid during the call
}

// SourceConfig is one entry of the config file (or the one source the
// environment describes), as the provider's constructor receives it.
type SourceConfig struct {
	Provider    string
	Account     string
	DisplayName string
	// Settings are the provider's own keys, secrets resolved (from *_file
	// or ${ENV}); Secrets names which of them are secret.
	Settings map[string]string
	// Optional per-source tuning; zero means the command's setting.
	Rate        int
	Concurrency int
	Lookback    time.Duration
}

// Provider is a kind of source: its config keys and its constructor.
type Provider struct {
	Name string
	// Keys are the config keys the provider reads, beside the common ones
	// (provider, account, rate, concurrency, lookback).
	Keys []Key
	// RateGroup, if set, says sources of this provider share one rate
	// limit per IP: they share one pacer, at the lowest of their rates.
	RateGroup bool
	// New builds a source from its config entry.
	New func(cfg SourceConfig, deps Deps) (Source, error)
}

// Key is one config key of a provider.
type Key struct {
	Name   string // in the config file: api_key (api_key_file reads it from a file)
	Env    string // the environment variable of the source "default" without a config file
	Secret bool   // only from a *_file or a ${ENV} reference; never printed
	// Required keys must be set; Default is used otherwise.
	Required bool
	Default  string
	Usage    string
}

// Deps are what the engine gives a source's constructor.
type Deps struct {
	Client ClientConfig // the command's client settings: timeout, logger, metrics
	// Pacer is the pacer of the source's rate group, or nil for a pacer
	// of its own.
	Pacer *Pacer
	// ReplayOnly builds a source for reprocess: it replays stored
	// payloads and calls no API, so it needs no credentials (and has no
	// client).
	ReplayOnly bool
}

var (
	providersMu sync.Mutex
	providers   = map[string]Provider{}
)

// Register adds a provider; a provider package calls it once, from the
// command that links it in.
func Register(p Provider) {
	providersMu.Lock()
	defer providersMu.Unlock()
	if _, dup := providers[p.Name]; dup {
		panic("ingest: provider " + p.Name + " registered twice")
	}
	providers[p.Name] = p
}

// Providers lists the registered providers by name.
func Providers() []Provider {
	providersMu.Lock()
	defer providersMu.Unlock()
	out := make([]Provider, 0, len(providers))
	for _, p := range providers {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupProvider finds a registered provider.
func LookupProvider(name string) (Provider, bool) {
	providersMu.Lock()
	defer providersMu.Unlock()
	p, ok := providers[name]
	return p, ok
}

// OpenSources builds the configured sources. Sources of a provider whose
// rate limit is per IP share one pacer, at the lowest rate any of them
// asks for (or the command's).
func OpenSources(cfgs []SourceConfig, client ClientConfig) ([]Source, error) {
	if client.RatePerMinute == 0 {
		client.RatePerMinute = defaultRate
	}
	clock := client.Clock
	if clock == nil {
		clock = realClock{}
	}
	groupRate := map[string]int{}
	for _, c := range cfgs {
		p, ok := LookupProvider(c.Provider)
		if !ok {
			return nil, fmt.Errorf("%w: source %s/%s: unknown provider %q", ErrConfig, c.Provider, c.Account, c.Provider)
		}
		if p.RateGroup {
			rate := client.RatePerMinute
			if c.Rate > 0 {
				rate = c.Rate
			}
			if r, seen := groupRate[p.Name]; !seen || rate < r {
				groupRate[p.Name] = rate
			}
		}
	}
	pacers := map[string]*Pacer{}
	for name, rate := range groupRate {
		pacers[name] = NewPacer(clock, rate)
	}
	var out []Source
	seen := map[store.Owner]bool{}
	for _, c := range cfgs {
		p, _ := LookupProvider(c.Provider)
		owner := store.Owner{Provider: c.Provider, Account: c.Account}
		if seen[owner] {
			return nil, fmt.Errorf("%w: source %s is configured twice", ErrConfig, owner)
		}
		seen[owner] = true
		for _, k := range p.Keys {
			if k.Secret && strings.ContainsFunc(c.Settings[k.Name], unicode.IsControl) {
				// A header cannot carry it: refused now, not retried per request.
				return nil, fmt.Errorf("%w: source %s: %s holds a line break or another control character", ErrConfig, owner, k.Name)
			}
		}
		cc := client
		if c.Rate > 0 {
			cc.RatePerMinute = c.Rate
		}
		src, err := p.New(c, Deps{Client: cc, Pacer: pacers[p.Name]})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", owner, err)
		}
		out = append(out, src)
	}
	return out, nil
}

// SelectSources keeps the sources named (provider/account or account);
// none named keeps them all.
func SelectSources(all []Source, names []string) ([]Source, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []Source
	for _, n := range names {
		i := slices.IndexFunc(all, func(s Source) bool { return s.Owner().String() == n || s.Owner().Account == n })
		if i < 0 {
			var known []string
			for _, s := range all {
				known = append(known, s.Owner().String())
			}
			return nil, fmt.Errorf("%w: no source %q (configured: %v)", ErrConfig, n, known)
		}
		if !slices.Contains(out, all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// ReplaySources builds replay-only sources (for reprocess) of the owners
// given: no credentials, no client.
func ReplaySources(owners []store.Owner) ([]Source, error) {
	var out []Source
	for _, o := range owners {
		p, ok := LookupProvider(o.Provider)
		if !ok {
			return nil, fmt.Errorf("%w: the warehouse holds payloads of %s, a provider this build does not know", ErrConfig, o)
		}
		src, err := p.New(SourceConfig{Provider: o.Provider, Account: o.Account}, Deps{ReplayOnly: true})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", o, err)
		}
		out = append(out, src)
	}
	return out, nil
}
