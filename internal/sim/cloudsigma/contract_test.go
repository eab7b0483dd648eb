package cloudsigma

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// The contract: every response has the shapes and types of the docs' dumps
// (testdata/json, copied from the docs repository) and its objects satisfy
// the Tastypie schema dumps: every declared field present, of its type,
// null only where nullable, nothing undeclared. The endpoints the docs do
// not dump are held to the schemas in schemas/, written in the same style.

// tastypie is a schema dump, the part of it the check reads.
type tastypie struct {
	DefaultLimit int `json:"default_limit"`
	Fields       map[string]struct {
		Type     string `json:"type"`
		Nullable *bool  `json:"nullable"`
	} `json:"fields"`
}

var (
	decimalRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?(E-?[0-9]+)?$`)
	integerRe = regexp.MustCompile(`^-?[0-9]+$`)
)

// checkFields checks one object against a schema's fields.
func checkFields(s tastypie, obj map[string]any) []string {
	var errs []string
	for _, name := range slices.Sorted(maps.Keys(s.Fields)) {
		f := s.Fields[name]
		v, ok := obj[name]
		if !ok {
			errs = append(errs, name+": missing")
			continue
		}
		if v == nil {
			if f.Nullable != nil && !*f.Nullable {
				errs = append(errs, name+": null, and the schema says not nullable")
			}
			continue
		}
		var bad bool
		switch f.Type {
		case "string":
			_, isStr := v.(string)
			bad = !isStr
		case "decimal":
			str, isStr := v.(string)
			bad = !isStr || !decimalRe.MatchString(str)
		case "integer":
			n, isNum := v.(json.Number)
			bad = !isNum || !integerRe.MatchString(string(n))
		case "boolean":
			_, isBool := v.(bool)
			bad = !isBool
		case "datetime":
			str, isStr := v.(string)
			_, err := time.Parse("2006-01-02T15:04:05.999999-07:00", str)
			bad = !isStr || err != nil
		case "date":
			str, isStr := v.(string)
			_, err := time.Parse("2006-01-02", str)
			bad = !isStr || err != nil
		case "dict":
			_, bad = v.(map[string]any)
			bad = !bad
		default:
			errs = append(errs, fmt.Sprintf("%s: the checker does not know type %q", name, f.Type))
		}
		if bad {
			errs = append(errs, fmt.Sprintf("%s: %#v is not a %s", name, v, f.Type))
		}
	}
	for name := range obj {
		if _, ok := s.Fields[name]; !ok {
			errs = append(errs, name+": not in the schema")
		}
	}
	return errs
}

// shape is the kinds of value a dump shows at a place, merged over every
// element of its arrays.
type shape struct {
	kinds   map[string]bool
	fields  map[string]*shape
	elem    *shape // arrays, and objects keyed by names (dynamic)
	dynamic bool
}

func kindOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case json.Number:
		if integerRe.MatchString(string(x)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

// dynamicObjects are the objects keyed by resource name, whose members
// all share one shape: pricing's burst levels and currentusage's usage.
var dynamicObjects = []string{".current", ".next", ".usage"}

func shapeOf(v any, path string, s *shape) *shape {
	if s == nil {
		s = &shape{kinds: map[string]bool{}, fields: map[string]*shape{}}
	}
	s.kinds[kindOf(v)] = true
	switch x := v.(type) {
	case map[string]any:
		if slices.Contains(dynamicObjects, path) {
			s.dynamic = true
			for _, e := range x {
				s.elem = shapeOf(e, path+".*", s.elem)
			}
			break
		}
		for k, e := range x {
			s.fields[k] = shapeOf(e, path+"."+k, s.fields[k])
		}
	case []any:
		for _, e := range x {
			s.elem = shapeOf(e, path+"[]", s.elem)
		}
	}
	return s
}

// checkShape reports where v differs from the shape. A null is fine where
// the dump shows one; the schema check says where else it may be.
func checkShape(s *shape, v any, path string) []string {
	k := kindOf(v)
	if k == "null" {
		return nil
	}
	if !s.kinds[k] {
		return []string{fmt.Sprintf("%s: %s, the dump shows %v", path, k, slices.Sorted(maps.Keys(s.kinds)))}
	}
	var errs []string
	switch x := v.(type) {
	case map[string]any:
		if s.dynamic {
			for name, e := range x {
				errs = append(errs, checkShape(s.elem, e, path+"."+name)...)
			}
			break
		}
		for name, e := range x {
			f, ok := s.fields[name]
			if !ok {
				errs = append(errs, path+"."+name+": not in the dump")
				continue
			}
			errs = append(errs, checkShape(f, e, path+"."+name)...)
		}
		for name := range s.fields {
			if _, ok := x[name]; !ok {
				errs = append(errs, path+"."+name+": missing")
			}
		}
	case []any:
		for i, e := range x {
			if s.elem != nil {
				errs = append(errs, checkShape(s.elem, e, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func readJSON(t testing.TB, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

func loadSchema(t testing.TB, file string) tastypie {
	t.Helper()
	b, err := schemaFS.ReadFile("schemas/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var s tastypie
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// contract checks API responses against the dumps and schemas.
type contract struct {
	t       *testing.T
	base    string
	shapes  map[string]*shape // endpoint → the dump's shape
	schemas map[string]tastypie
	checked int
}

func newContract(t *testing.T, base string) *contract {
	c := &contract{t: t, base: base, shapes: map[string]*shape{}, schemas: map[string]tastypie{}}
	for _, e := range endpoints {
		c.schemas[e.name] = loadSchema(t, e.schema)
		if dump := "testdata/json/response_" + e.name + "_list.json"; fileExists(dump) {
			c.shapes[e.name] = shapeOf(readJSON(t, dump), "", nil)
		}
	}
	return c
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// errorsIn lists what is wrong with one endpoint's response body.
func (c *contract) errorsIn(name string, body any) []string {
	var errs []string
	if s := c.shapes[name]; s != nil {
		errs = append(errs, checkShape(s, body, "")...)
	}
	root, _ := body.(map[string]any)
	objs := []any{root}
	if list, ok := root["objects"].([]any); ok {
		objs = list
		meta, _ := root["meta"].(map[string]any)
		for _, k := range []string{"limit", "offset", "total_count"} {
			if kindOf(meta[k]) != "integer" {
				errs = append(errs, "meta."+k+": not an integer")
			}
		}
	}
	for i, o := range objs {
		obj, _ := o.(map[string]any)
		for _, e := range checkFields(c.schemas[name], obj) {
			errs = append(errs, fmt.Sprintf("object %d: %s", i, e))
		}
	}
	return errs
}

// get fetches an endpoint's path and checks the answer.
func (c *contract) get(name, path string) map[string]any {
	c.t.Helper()
	body := getJSON(c.t, c.base, path)
	for _, e := range c.errorsIn(name, body) {
		c.t.Errorf("GET %s: %s", path, e)
	}
	c.checked++
	return body
}

// TestContract walks every endpoint with the queries a crawler sends and
// checks every answer, errors included.
func TestContract(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{ModelConfig: ModelConfig{Servers: 10, Currency: "EUR"}})
	c := newContract(t, base)
	now := s.Model.Now()
	day := now.Add(-24 * time.Hour).Format("2006-01-02")
	win := fmt.Sprintf("time__gte=%s&time__lt=%s", now.Add(-2*time.Hour).Format(time.RFC3339), now.Format(time.RFC3339))
	queries := map[string][]string{
		"balance":      {"/balance/", "/balance"},
		"pricing":      {"/pricing/", "/pricing/?limit=5", "/pricing/?level=0", "/pricing/?level__in=1,2&offset=10&limit=7"},
		"discount":     {"/discount/", "/discount"},
		"currentusage": {"/currentusage/"},
		"licenses":     {"/licenses/", "/licenses/?limit=2&offset=1"},
		"ledger": {"/ledger/", "/ledger", "/ledger/?limit=0&" + win, "/ledger/?order_by=time&limit=50&" + win,
			"/ledger/?billing_cycle=" + fmt.Sprint(CycleOf(now)-3), "/ledger/?time__gt=" + s.Model.Start().Format(time.RFC3339) + "&order_by=time"},
		"usage": {"/usage/", "/usage?poll_time_gt=" + day + "&poll_time_lt=" + now.Format("2006-01-02T15:04") + "&limit=1500",
			"/usage/?poll_time__gt=" + day + "&limit=30&offset=40"},
		"subscriptions":   {"/subscriptions/", "/subscriptions/?status=active"},
		"burstusage":      {"/burstusage/", "/burstusage/?" + win},
		"dailyburstusage": {"/dailyburstusage/", "/dailyburstusage/?date__gte=" + day},
		"profile":         {"/profile/"},
	}
	for _, e := range endpoints {
		qs := queries[e.name]
		if len(qs) == 0 {
			t.Errorf("no queries for %s", e.name)
		}
		for _, q := range qs {
			body := c.get(e.name, q)
			if list, ok := body["objects"].([]any); ok && len(list) == 0 && !strings.Contains(q, "offset") {
				t.Errorf("GET %s: no objects", q)
			}
		}
		// The schema endpoint serves the docs' schema dump, unchanged.
		got := getJSON(t, base, "/"+e.name+"/schema/")
		if dump := "testdata/json/response_" + e.name + "_schema.json"; fileExists(dump) {
			if !reflect.DeepEqual(got, readJSON(t, dump)) {
				t.Errorf("/%s/schema/ differs from the docs' dump", e.name)
			}
		}
		if c.schemas[e.name].DefaultLimit != map[bool]int{true: 0, false: 20}[e.name == "pricing" || e.name == "discount"] {
			t.Errorf("%s: default_limit %d", e.name, c.schemas[e.name].DefaultLimit)
		}
	}

	// Errors: the error array and a request id.
	for _, path := range []string{"/ledger/?colour=red", "/ledger/?time__gt=yesterday", "/ledger/?order_by=amount",
		"/usage/?resource=cpu", "/pricing/?currency=EUR", "/ledger/?limit=-1", "/nothing/"} {
		status, h, body := get(t, base, path)
		if status != 400 && status != 404 {
			t.Errorf("GET %s: %d", path, status)
		}
		checkErrorArray(t, path, h, body)
	}
	if c.checked < 25 {
		t.Errorf("only %d responses checked", c.checked)
	}
}

func checkErrorArray(t *testing.T, path string, h http.Header, body []byte) {
	t.Helper()
	if h.Get("X-REQUEST-ID") == "" {
		t.Errorf("%s: no X-REQUEST-ID", path)
	}
	arr, ok := decode(t, body).([]any)
	if !ok || len(arr) != 1 {
		t.Fatalf("%s: not an error array: %s", path, body)
	}
	e := arr[0].(map[string]any)
	if len(e) != 3 || kindOf(e["error_type"]) != "string" || kindOf(e["error_message"]) != "string" ||
		(e["error_point"] != nil && kindOf(e["error_point"]) != "string") {
		t.Errorf("%s: error %v", path, e)
	}
}

// TestContractCatchesDrift proves the checks bite: a changed type, a
// missing or an extra field, and the simulator's own wrong-type fault, all
// fail them.
func TestContractCatchesDrift(t *testing.T) {
	t.Parallel()
	_, base := newTestSim(t, Config{})
	c := newContract(t, base)
	fresh := func() map[string]any { return getJSON(t, base, "/ledger/?limit=3") }
	if errs := c.errorsIn("ledger", fresh()); len(errs) > 0 {
		t.Fatalf("a good page fails: %v", errs)
	}
	for name, edit := range map[string]func(o map[string]any){
		"amount as a number":     func(o map[string]any) { o["amount"] = json.Number("0.1") },
		"billing_cycle a string": func(o map[string]any) { o["billing_cycle"] = "105157" },
		"time not a datetime":    func(o map[string]any) { o["time"] = "yesterday" },
		"a missing field":        func(o map[string]any) { delete(o, "reason") },
		"an extra field":         func(o map[string]any) { o["currency"] = "EUR" },
		"amount not a decimal":   func(o map[string]any) { o["amount"] = "1,5" },
		"id not nullable":        func(o map[string]any) { o["id"] = nil },
	} {
		body := fresh()
		edit(body["objects"].([]any)[0].(map[string]any))
		if errs := c.errorsIn("ledger", body); len(errs) == 0 {
			t.Errorf("%s passed", name)
		}
	}

	_, faulty := newTestSim(t, Config{Config: sim.Config{Faults: sim.Faults{WrongType: 1}}})
	body := getJSON(t, faulty, "/ledger/?limit=3")
	if errs := c.errorsIn("ledger", body); len(errs) == 0 {
		t.Errorf("the wrong_type fault passed: %v", body)
	}
}
