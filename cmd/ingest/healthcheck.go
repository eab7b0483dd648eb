package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// healthcheckCmd probes a serve process's /readyz: exit 0 when it answers
// 200, 1 otherwise. Container images without curl (distroless) use it as
// their health check.
func healthcheckCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := os.Getenv("INGEST_LISTEN")
	if listen == "" {
		listen = "127.0.0.1:9090"
	}
	addr := fs.String("addr", listen, "address serve listens on (env INGEST_LISTEN)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for an answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("%w: --addr %q is not host:port", errUsage, *addr)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // serve listens on every address: ask on loopback
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %s does not answer: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s answered %d: %s", url, resp.StatusCode, body)
	}
	fmt.Fprintf(stdout, "healthy: %s", body)
	return nil
}
