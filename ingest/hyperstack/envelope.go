package hyperstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/billing-warehouse/billing-warehouse/internal/jsontree"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// ErrMalformed marks a body the decoders cannot trust.
var ErrMalformed = jsontree.ErrMalformed

// errorEnvelope reads the API's {status: false, message, error_reason}.
func errorEnvelope(body []byte) (reason, message string) {
	var e struct {
		Message string `json:"message"`
		Reason  string `json:"error_reason"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", strings.TrimSpace(store.Clip(string(body), 200))
	}
	return e.Reason, e.Message
}

// metaKeys are an envelope's own fields, around the payload.
var metaKeys = []string{"status", "success", "message", "error_reason"}

// errNoData is a family or window the API has nothing for, which it answers
// with {status (or success): false, message: "No cluster data found for …"}
// under HTTP 200 and no payload: an empty list, not a failure.
var errNoData = errors.New("no data")

// noData reports whether an envelope's message is the API's "no data"
// answer ("No cluster data found for 2026-05-01T00:00:00 - …").
func noData(msg string) bool {
	m := strings.ToLower(strings.TrimSpace(msg))
	return strings.HasPrefix(m, "no ") && strings.Contains(m, " data found")
}

// payload finds a response's payload. The live API's keys differ from the
// SDK schema's (and reuse each other's), so it takes the first of keys that
// is present; else the body itself when it is an unwrapped payload (the
// spec's bucket graph: {org_id, billing_history, …} with no envelope); else
// the one field of the envelope that is not status, success or message.
// A false status is errNoData when its message says there is no data and no
// payload came, and a failure otherwise.
func payload(root jsontree.Object, keys ...string) (any, error) {
	failed, msg := false, ""
	for _, k := range []string{"status", "success"} {
		if v, ok := root.Lookup(k); ok && v == false {
			failed = true
			msg, _ = root.Get("message").(string)
		}
	}
	if failed && !noData(msg) {
		if msg == "" {
			msg = "(no message)"
		}
		return nil, fmt.Errorf("%w: the API reported failure: %s", ErrMalformed, msg)
	}
	for _, k := range keys {
		if v, ok := root.Lookup(k); ok {
			return v, nil
		}
	}
	if _, ok := root.Lookup("billing_history"); ok {
		return root, nil
	}
	var others []string
	for _, m := range root {
		if slices.Contains(metaKeys, m.Key) || slices.Contains(others, m.Key) {
			continue
		}
		switch root.Get(m.Key).(type) { // of a repeated key, the last counts
		case jsontree.Object, []any:
			others = append(others, m.Key)
		}
	}
	if len(others) == 1 {
		return root.Get(others[0]), nil
	}
	if failed && len(others) == 0 {
		return nil, errNoData
	}
	slices.Sort(others)
	return nil, fmt.Errorf("%w: no payload under %v (fields: %v)", ErrMalformed, keys, others)
}

// documentedNull are the fields the live API is documented to send as
// null. A null anywhere else is treated as a broken response, so the unit
// is fetched again rather than stored with a hole.
var documentedNull = map[string]bool{
	"contract_id": true, "terminate_time": true, "bill_per_minute": true,
	"input_tokens": true, "input_tokens_incurred_bill": true, "input_tokens_non_discounted_bill": true,
}
