// Package sim is what every billing API simulator shares: the billing
// clock, fault drawing, the per-client rate limit, latency, statistics, the
// /_sim/ control plumbing and the common flags. A simulator's own package
// holds only its model, its routes and its wire shapes (internal/hyperstacksim
// is the first).
//
// A Server is the simulated API as an http.Handler. For each API request it
// applies, in this order: the rate limit (Provider.RateKey, Limiter), the
// credentials (Provider.Authorize), the route (404 without one), then a
// latency and a fault drawn deterministically from the seed, the request's
// method, path and query, and how often that same request came before
// (Draw). Faults the server can carry out alone (reset, hang, 500, 502,
// truncate, slow body, and the body edits wrong type, extra field and null)
// it carries out; the others (unstable pages, a provider's own classes)
// reach the handler in Request.Fault. Every error answer goes through
// Provider.Error, so each API keeps its own envelope. Paths under /_sim/
// go to the control mux, which has the common endpoints already:
//
//	GET  /_sim/clock                     {now, …ClockInfo}     (with Provider.Clock)
//	POST /_sim/clock                     {"advance": "1h"} or {"set": "2026-11-01T00:00:00Z"}
//	GET  /_sim/faults, POST /_sim/faults {"error_500": 0.05, …}
//	POST /_sim/rate-limit                {"per_minute": 500, "retry_after": false}
//	GET  /_sim/stats, POST /_sim/stats/reset
//
// A simulator in a few lines:
//
//	clock := sim.NewClock(flags.Now, time.Second)
//	s := sim.New(flags.Config(), sim.Provider{
//		Prefix: "/v1",
//		Error: func(r *http.Request, f sim.Failure) (int, any) {
//			if e, ok := f.Err.(*apiError); ok {
//				return e.status, e.body()
//			}
//			return f.Status, map[string]any{"code": f.Status, "message": http.StatusText(f.Status)}
//		},
//		RateKey: func(r *http.Request) string { return sim.ClientIP(r) + " " + r.URL.Path },
//		RateHeaders: func(h http.Header, q sim.Quota) {
//			h.Set("X-RateLimit-Remaining", strconv.Itoa(q.Remaining))
//		},
//		Classes: []sim.Class{"export_failed"},
//		Clock:   clock,
//	})
//	s.Handle("GET /v1/bills/{month}", func(r *sim.Request) (any, error) {
//		r.CountResource(r.PathValue("month"))
//		if r.Fault == "export_failed" { … }
//		r.ResponseHeader.Set("X-Next-Key", next)
//		return map[string]any{"month": r.PathValue("month"), "total": json.Number("12.5")}, nil
//	})
//	sim.HandleControl(s.Control(), "POST /_sim/restate", func(r *http.Request, in restate) (any, error) {
//		return sim.OK, model.Restate(in)
//	})
//
// with flags parsed in its main:
//
//	flags := sim.Flags{Addr: "127.0.0.1:8090", RateLimit: 500} // this simulator's defaults
//	flags.Register(fs, sim.ClassFlag{Class: "export_failed", Flag: "export-failed", Usage: "rate of failed export jobs"})
//	fs.Parse(args)
//	… build the model and s as above …
//	return sim.ListenAndServe(ctx, logger, "soracom-sim", flags.Addr, "/v1", s, "seed", flags.Seed)
//
// Body faults edit the body a handler returns only if it is a JSON tree of
// map[string]any, []any and scalars with numbers as json.Number (decode
// with UseNumber, or build it so); a struct goes out unedited and the fault
// is not counted. A provider class the handler does not act on is still
// counted, so keep it to the requests it fits with Provider.Applies. A
// model that reads its Clock several times under its own lock guards the
// clock with that lock (Clock.Guard), so one answer sees one time.
//
// Determinism: the same seed and the same requests give the same faults,
// latencies and bodies, byte for byte; a retry draws again, so it can
// succeed. A handler's own random decisions read Request.Draw with salts
// from 1000 up.
package sim
