package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestConnectionLost(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	for err, want := range map[error]bool{
		&pgconn.PgError{Code: "57P01"}:                 true, // admin shutdown
		&pgconn.PgError{Code: "08006"}:                 true, // connection failure
		fmt.Errorf("copy: %w", reset):                  true,
		fmt.Errorf("commit: %w", io.ErrUnexpectedEOF):  true,
		&pgconn.PgError{Code: "23505"}:                 false, // unique violation
		&pgconn.PgError{Code: "22P02"}:                 false, // bad input
		context.Canceled:                               false,
		errors.New("merge into billing.resources: no"): false,
	} {
		if got := connectionLost(err); got != want {
			t.Errorf("connectionLost(%v) = %v, want %v", err, got, want)
		}
	}
}
