package cloudsigma

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiError is an error answer in the API's envelope: a JSON array of
// {error_type, error_message, error_point}.
type apiError struct {
	status  int
	typ     string // validation, notexist, permission, backend, concurrency
	message string
	point   string // the offending parameter; "" sends null
}

func (e *apiError) Error() string { return e.message }

func (e *apiError) body() []any {
	var point any
	if e.point != "" {
		point = e.point
	}
	return []any{map[string]any{"error_type": e.typ, "error_message": e.message, "error_point": point}}
}

func badParam(point, format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "validation", fmt.Sprintf(format, args...), point}
}

// query is a list request's parameters, checked against what the endpoint
// allows: every parameter must be known, or the answer is 400.
type query struct {
	vals          url.Values
	limit, offset int
}

// parseQuery reads limit, offset and format, and refuses any parameter
// neither they nor the endpoint's filters name.
func parseQuery(r *http.Request, defaultLimit int, filters ...string) (query, error) {
	q := query{vals: r.URL.Query(), limit: defaultLimit}
	for name, vs := range q.vals {
		v := vs[len(vs)-1] // the docs: the last of conflicting parameters wins
		switch name {
		case "limit", "offset":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return q, badParam(name, "%s must be a non-negative integer, not %q", name, v)
			}
			if name == "limit" {
				q.limit = n
			} else {
				q.offset = n
			}
		case "format":
			if v != "json" {
				return q, badParam(name, "the simulator only speaks json, not %q", v)
			}
		default:
			if !contains(filters, name) {
				return q, badParam(name, "%q is not an allowed filter here; allowed: %s", name, strings.Join(filters, ", "))
			}
		}
	}
	return q, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// window turns page parameters into the [lo, hi) slice of n items.
func (q query) window(n int) (lo, hi int) {
	lo = min(q.offset, n)
	hi = n
	if q.limit > 0 {
		hi = min(n, lo+q.limit)
	}
	return lo, hi
}

// ParseAPITime reads a time filter value as the API (Django) does: a date,
// or a date and time with "T" or a space, with or without fractions and a
// UTC offset (no offset: UTC). A "+" sent unescaped in a query arrives as a
// space; it is read back as "+".
func ParseAPITime(v string) (time.Time, error) {
	s := strings.TrimSpace(v)
	if len(s) > 6 && s[len(s)-6] == ' ' && s[len(s)-3] == ':' {
		s = s[:len(s)-6] + "+" + s[len(s)-5:]
	}
	for _, layout := range []string{
		"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date or date and time", v)
}

// timeRange is a half-open interval of unix microseconds.
type timeRange struct{ lo, hi int64 }

var everything = timeRange{math.MinInt64, math.MaxInt64}

// timeFilters narrows r by the field's __gt, __gte, __lt, __lte and exact
// filters (and the single-underscore spellings in alt, as /usage/'s docs
// write them).
func (q query) timeFilters(field string, r timeRange, alt bool) (timeRange, error) {
	for name, vs := range q.vals {
		op, ok := strings.CutPrefix(name, field)
		if !ok {
			continue
		}
		if alt && strings.HasPrefix(op, "_") && !strings.HasPrefix(op, "__") {
			op = "_" + op
		}
		t, err := ParseAPITime(vs[len(vs)-1])
		if err != nil {
			return r, badParam(name, "%s: %v", name, err)
		}
		us := t.UnixMicro()
		switch op {
		case "__gt":
			r.lo = max(r.lo, us+1)
		case "__gte":
			r.lo = max(r.lo, us)
		case "__lt":
			r.hi = min(r.hi, us)
		case "__lte":
			r.hi = min(r.hi, us+1)
		case "", "__exact":
			r.lo, r.hi = max(r.lo, us), min(r.hi, us+1)
		default:
			return r, badParam(name, "%q is not an allowed filter here", name)
		}
	}
	return r, nil
}

// intSet is a billing_cycle filter: exact values and a range, ANDed.
type intSet struct {
	any    bool
	values map[int64]bool // nil: no exact filter
	lo, hi int64          // [lo, hi]
}

func (q query) intFilters(field string) (intSet, error) {
	s := intSet{lo: math.MinInt64, hi: math.MaxInt64}
	for name, vs := range q.vals {
		op, ok := strings.CutPrefix(name, field)
		if !ok {
			continue
		}
		s.any = true
		var nums []int64
		for _, part := range strings.Split(vs[len(vs)-1], ",") { // the docs: comma means OR
			n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				return s, badParam(name, "%s must be an integer, not %q", name, part)
			}
			nums = append(nums, n)
		}
		switch op {
		case "", "__exact", "__in":
			set := map[int64]bool{}
			for _, n := range nums {
				if s.values == nil || s.values[n] {
					set[n] = true
				}
			}
			s.values = set
		case "__gt":
			s.lo = max(s.lo, nums[0]+1)
		case "__gte":
			s.lo = max(s.lo, nums[0])
		case "__lt":
			s.hi = min(s.hi, nums[0]-1)
		case "__lte":
			s.hi = min(s.hi, nums[0])
		default:
			return s, badParam(name, "%q is not an allowed filter here", name)
		}
	}
	return s, nil
}

func (s intSet) has(n int64) bool {
	return n >= s.lo && n <= s.hi && (s.values == nil || s.values[n])
}

// bounds is the smallest range holding every value the set admits.
func (s intSet) bounds() (lo, hi int64) {
	lo, hi = s.lo, s.hi
	if s.values != nil {
		vlo, vhi := int64(math.MaxInt64), int64(math.MinInt64)
		for v := range s.values {
			vlo, vhi = min(vlo, v), max(vhi, v)
		}
		lo, hi = max(lo, vlo), min(hi, vhi)
	}
	return lo, hi
}

// filterNames lists field, field__exact and the comparison filters.
func filterNames(field string, extra ...string) []string {
	out := []string{field}
	for _, op := range append([]string{"exact", "gt", "gte", "lt", "lte"}, extra...) {
		out = append(out, field+"__"+op)
	}
	return out
}
