// Package bench measures the warehouse end to end against the simulator:
// API-bound efficiency, request efficiency, write throughput against raw
// COPY, peak memory, and how each scales. Run it with make bench; results
// are written to bench/results/ as JSON.
package bench
