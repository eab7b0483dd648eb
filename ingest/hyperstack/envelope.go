package hyperstack

import (
	"encoding/json"
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

// payload finds a response's payload. The live API's keys differ from the
// SDK schema's (and reuse each other's), so it takes the first of keys that
// is present, else the one field of the envelope that is not status,
// success or message.
func payload(root jsontree.Object, keys ...string) (any, error) {
	for _, k := range []string{"status", "success"} {
		if v, ok := root.Lookup(k); ok && v == false {
			if msg, _ := root.Get("message").(string); msg != "" && !strings.HasPrefix(strings.ToLower(msg), "no ") {
				return nil, fmt.Errorf("%w: the API reported failure: %s", ErrMalformed, msg)
			}
		}
	}
	for _, k := range keys {
		if v, ok := root.Lookup(k); ok {
			return v, nil
		}
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
