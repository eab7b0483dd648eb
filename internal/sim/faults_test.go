package sim

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestDrawPinned pins a few draws: every seeded benchmark and system test
// depends on them, so a change here changes every run.
func TestDrawPinned(t *testing.T) {
	t.Parallel()
	d := NewDraw(42, "GET /v1/x?page=2", 0)
	if got := d.Float(1); got != 0.7376463483291508 {
		t.Errorf("Float(1) = %v", got)
	}
	if got := d.Pick(101, 10); got != 5 {
		t.Errorf("Pick(101, 10) = %d", got)
	}
	if got := NewDraw(42, "GET /v1/x?page=2", 1).Float(1); got != 0.00045309261086012853 {
		t.Errorf("the repeat's Float(1) = %v", got)
	}
	if got := Mix(1, 2, 3); got != 8157911895043981667 {
		t.Errorf("Mix(1, 2, 3) = %d", got)
	}
	f := Faults{Error500: 0.3}
	var got []Class
	for n := range 12 {
		got = append(got, f.Choose(NewDraw(7, "GET /a?", n), nil))
	}
	want := []Class{"", "", "", "", Fault500, Fault500, Fault500, Fault500, "", "", Fault500, ""}
	if !slices.Equal(got, want) {
		t.Errorf("12 repeats at 0.3: %q, want %q", got, want)
	}
}

func TestChoose(t *testing.T) {
	t.Parallel()
	d := NewDraw(1, "GET /x?", 0)
	if got := AllFaults(1).Choose(d, nil); got != FaultReset {
		t.Errorf("every class at 1: %q, want reset, the first drawn", got)
	}
	notReset := func(c Class) bool { return c != FaultReset && c != FaultHang }
	if got := AllFaults(1).Choose(d, notReset); got != Fault500 {
		t.Errorf("reset and hang skipped: %q, want error_500", got)
	}
	if got := (Faults{}).Choose(d, nil); got != "" {
		t.Errorf("no rates: %q", got)
	}
	if got := (Faults{Extra: map[Class]float64{"conflict_503": 1}}).Choose(d, nil); got != "conflict_503" {
		t.Errorf("an extra class at 1: %q", got)
	}
	if got := (Faults{Extra: map[Class]float64{"conflict_503": 1}}).Choose(d, notReset); got != "conflict_503" {
		t.Errorf("an extra class at 1, standard ones filtered: %q", got)
	}
}

// TestExtraClassesKeepStandardDraws checks that adding a provider's class
// moves none of the standard draws: a request that got a 500 still does.
func TestExtraClassesKeepStandardDraws(t *testing.T) {
	t.Parallel()
	plain := Faults{Error500: 0.2, Null: 0.2}
	extra := plain
	extra.Extra = map[Class]float64{"export_failed": 0.5}
	changed, extras := 0, 0
	for n := range 500 {
		d := NewDraw(3, "GET /bills?", n)
		a, b := plain.Choose(d, nil), extra.Choose(d, nil)
		switch {
		case b == "export_failed" && a == "":
			extras++
		case a != b:
			changed++
		}
	}
	if changed != 0 {
		t.Errorf("%d of 500 standard draws changed when an extra class was added", changed)
	}
	if extras < 100 || extras > 220 {
		t.Errorf("the extra class at 0.5 hit %d of the ~320 requests left without a fault", extras)
	}
}

func TestFaultsJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Faults{Error500: 0.5})
	const std = `{"error_500":0.5,"error_502":0,"reset":0,"hang":0,"slow_body":0,"truncate":0,"wrong_type":0,"extra_field":0,"null":0,"unstable_pages":0}`
	if err != nil || string(b) != std {
		t.Errorf("Marshal = %s, %v; want %s", b, err, std)
	}
	b, err = json.Marshal(Faults{Null: 0.25, Extra: map[Class]float64{"b": 0.5, "a": 1}})
	const ext = `{"error_500":0,"error_502":0,"reset":0,"hang":0,"slow_body":0,"truncate":0,"wrong_type":0,"extra_field":0,"null":0.25,"unstable_pages":0,"a":1,"b":0.5}`
	if err != nil || string(b) != ext {
		t.Errorf("Marshal with extras = %s, %v; want %s", b, err, ext)
	}
	var f Faults
	if err := json.Unmarshal([]byte(`{"hang": 0.1, "conflict_503": 0.2}`), &f); err != nil {
		t.Fatal(err)
	}
	if f.Hang != 0.1 || len(f.Extra) != 1 || f.Extra["conflict_503"] != 0.2 || f.Rate("conflict_503") != 0.2 || f.Rate(FaultHang) != 0.1 {
		t.Errorf("Unmarshal = %+v", f)
	}
	if err := json.Unmarshal([]byte(`{"conflict_503": "often"}`), &f); err == nil {
		t.Error("a rate that is no number was accepted")
	}
}

func TestMutate(t *testing.T) {
	t.Parallel()
	tree := func() map[string]any {
		return map[string]any{"status": true, "message": "ok", "data": map[string]any{
			"cost": json.Number("1.5"), "name": "vm-1", "tags": []any{"a", "b"},
		}}
	}
	spare := []string{"status", "message"}
	d := NewDraw(1, "k", 0)

	body := tree()
	if got := mutate(body, FaultWrongType, d, spare); got != "number as string at .data.cost" || body["data"].(map[string]any)["cost"] != "1.5" {
		t.Errorf("wrong type: %q, %v", got, body)
	}
	for n := range 20 {
		body := tree()
		got := mutate(body, FaultNull, NewDraw(1, "k", n), spare)
		if got != "null at .data.cost" && got != "null at .data.name" {
			t.Fatalf("null touched %q; want a member outside the envelope and outside arrays", got)
		}
	}
	body = tree()
	if got := mutate(body, FaultExtraField, d, spare); got != "extra field" || len(Leaves(body)) != len(Leaves(tree()))+2 {
		t.Errorf("extra field: %q, %v", got, body)
	}
	if got := mutate(map[string]any{"status": true}, FaultWrongType, d, spare); got != "" {
		t.Errorf("wrong type with no number: %q", got)
	}
	if got := mutate([]any{"x"}, FaultExtraField, d, spare); got != "" {
		t.Errorf("extra field with no object: %q", got)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	l, err := ParseLatency("20ms-60ms")
	if err != nil || l.Min != 20*time.Millisecond || l.Max != 60*time.Millisecond || l.String() != "20ms-60ms" {
		t.Fatalf("ParseLatency = %+v, %v", l, err)
	}
	for i := range 100 {
		d := l.Duration(NewDraw(1, "k", i))
		if d < l.Min || d > l.Max {
			t.Fatalf("latency %s outside %s-%s", d, l.Min, l.Max)
		}
	}
	if got := (Latency{Min: 10 * time.Millisecond, Max: 80 * time.Millisecond}).Duration(NewDraw(1, "k", 0)); got != 54447088 {
		t.Errorf("pinned draw: %s", got)
	}
	if l, err := ParseLatency("50ms"); err != nil || l != (Latency{Min: 50 * time.Millisecond}) || l.Duration(NewDraw(1, "k", 0)) != 50*time.Millisecond {
		t.Errorf(`ParseLatency("50ms") = %+v, %v`, l, err)
	}
	if l, err := ParseLatency(""); err != nil || l != (Latency{}) {
		t.Errorf(`ParseLatency("") = %+v, %v`, l, err)
	}
	for _, bad := range []string{"fast", "60ms-20ms", "1s-x"} {
		if _, err := ParseLatency(bad); err == nil {
			t.Errorf("ParseLatency(%q) accepted", bad)
		}
	}
}
