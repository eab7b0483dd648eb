package sim

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Leaf is one scalar of a decoded JSON tree (map[string]any, []any,
// json.Number, string, bool, nil), found by Leaves.
type Leaf struct {
	Path  string // ".a.b[2].c"
	Key   string // the member name; "" for an array element
	Value any
	set   func(any)
}

// Leaves lists the scalars of a JSON tree in a fixed order (object members
// by name), so a draw picks the same one every time. Tests use it to diff
// two bodies.
func Leaves(v any) []Leaf {
	var out []Leaf
	leaves(v, "", &out)
	return out
}

func leaves(v any, path string, out *[]Leaf) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			switch x[k].(type) {
			case map[string]any, []any:
				leaves(x[k], path+"."+k, out)
			default:
				*out = append(*out, Leaf{Path: path + "." + k, Key: k, Value: x[k], set: func(nv any) { x[k] = nv }})
			}
		}
	case []any:
		for i := range x {
			switch x[i].(type) {
			case map[string]any, []any:
				leaves(x[i], path+"["+strconv.Itoa(i)+"]", out)
			default:
				*out = append(*out, Leaf{Path: fmt.Sprintf("%s[%d]", path, i), Value: x[i], set: func(nv any) { x[i] = nv }})
			}
		}
	}
}

// objects lists every object of a tree in a fixed order.
func objects(v any, out *[]map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		*out = append(*out, x)
		for _, k := range slices.Sorted(maps.Keys(x)) {
			objects(x[k], out)
		}
	case []any:
		for _, e := range x {
			objects(e, out)
		}
	}
}

// mutate applies a body fault to a JSON tree in place and says what it did
// ("" when the tree has nothing the fault could change). The null fault
// spares array elements and the members named in spare (an envelope's
// status fields, say).
func mutate(body any, class Class, d Draw, spare []string) string {
	switch class {
	case FaultWrongType, FaultNull:
		var candidates []Leaf
		for _, l := range Leaves(body) {
			if class == FaultWrongType {
				if _, ok := l.Value.(json.Number); ok {
					candidates = append(candidates, l)
				}
			} else if l.Key != "" && !slices.Contains(spare, l.Key) {
				candidates = append(candidates, l)
			}
		}
		if len(candidates) == 0 {
			return ""
		}
		l := candidates[d.Pick(101, len(candidates))]
		if class == FaultWrongType {
			l.set(string(l.Value.(json.Number)))
			return "number as string at " + l.Path
		}
		l.set(nil)
		return "null at " + l.Path
	case FaultExtraField:
		var objs []map[string]any
		objects(body, &objs)
		if len(objs) == 0 {
			return ""
		}
		o := objs[d.Pick(102, len(objs))]
		o["x_undocumented"] = map[string]any{
			"added_at": time.Unix(0, 0).UTC().Format(time.RFC3339),
			"value":    json.Number(strconv.Itoa(d.Pick(103, 1000))),
		}
		return "extra field"
	}
	return ""
}

// isBodyFault reports whether a fault edits the response's JSON, which
// only happens, and only counts, when there is a body to edit.
func isBodyFault(c Class) bool {
	return c == FaultWrongType || c == FaultNull || c == FaultExtraField
}
