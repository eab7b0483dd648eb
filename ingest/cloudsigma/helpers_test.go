package cloudsigma_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/cloudsigma"
)

func basic(u, p string) string { return base64.StdEncoding.EncodeToString([]byte(u + ":" + p)) }

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// newWrong is the env's account with a wrong password.
func newWrong(e *env, auth string, logger *slog.Logger) (ingest.Source, error) {
	return cloudsigma.New(ingest.SourceConfig{Provider: cloudsigma.Name, Account: "wrong", Settings: map[string]string{
		"api_url": e.url + "/api/2.0/", "username": user, "password": "nope-" + password, "auth": auth,
	}}, ingest.Deps{Client: ingest.ClientConfig{Logger: logger, RatePerMinute: 1_000_000, BackoffBase: 1}})
}
