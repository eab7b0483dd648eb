package sim

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ListenAndServe listens on addr, logs "NAME listening" with
// url=http://HOST:PORT+path first and attrs after, and serves h until ctx
// ends; then it stops taking connections and gives requests in flight five
// seconds. The url= attribute is how scripts/demo.sh and the mains' tests
// learn where a simulator listens (addr may have port 0).
func ListenAndServe(ctx context.Context, logger *slog.Logger, name, addr, path string, h http.Handler, attrs ...any) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger.Info(name+" listening", append([]any{"url", "http://" + ln.Addr().String() + path}, attrs...)...)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	err = srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped // Serve returns at once; Shutdown waits for requests in flight
		return nil
	}
	return err
}
