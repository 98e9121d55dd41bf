package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Field describes one key of the `.sink` schema, read from struct tags.
type Field struct {
	Key   string       // the key as written in a .sink file ("d_model"); "" for a kind field
	Path  string       // dotted path from the run ("model.d_model")
	Index []int        // reflect field index path from Run
	Type  reflect.Type // Go type of the field
	Doc   string
	Enum  []string // allowed identifiers, if an enum
	Kinds []string // for constructor arguments: the kinds that accept it (empty: all)
	Min   *float64
	Max   *float64
	Len   int  // required list length, 0 = any
	Kind  bool // the field holds the constructor kind of its parent struct
	// emptyOK: an empty string means the default (omitempty/omitzero
	// settings, IsZero types, the kind of an IsZero struct).
	emptyOK bool
	// Children are the keys of a block (top-level struct) or the arguments of a
	// constructor value (a struct with a kind field).
	Children []Field
}

// IsBlock reports whether the field is a `{ ... }` block of settings.
func (f Field) IsBlock() bool { return f.Type.Kind() == reflect.Struct && f.KindField() == nil }

// IsConstructor reports whether the field takes a constructor value, `kind(arg: v, ...)`.
func (f Field) IsConstructor() bool {
	return f.Type.Kind() == reflect.Struct && f.KindField() != nil
}

// KindField returns the child holding the constructor kind, or nil.
func (f Field) KindField() *Field {
	for i := range f.Children {
		if f.Children[i].Kind {
			return &f.Children[i]
		}
	}
	return nil
}

// Child returns the child with the given key, or nil.
func (f Field) Child(key string) *Field {
	for i := range f.Children {
		if !f.Children[i].Kind && f.Children[i].Key == key {
			return &f.Children[i]
		}
	}
	return nil
}

// AcceptsKind reports whether a constructor argument applies to the given kind.
func (f Field) AcceptsKind(kind string) bool {
	if len(f.Kinds) == 0 {
		return true
	}
	for _, k := range f.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Keys lists the keys of a block or the arguments of a constructor.
func (f Field) Keys() []string {
	var keys []string
	for _, c := range f.Children {
		if !c.Kind {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

// Schema returns the root of the schema: a block whose children are the
// top-level blocks of an experiment (model, data, train, measure).
func Schema() Field { return schema() }

// schema is built once: the struct tags never change at run time, and run
// ids (which walk the schema) are computed for every cell of every grid.
var schema = sync.OnceValue(func() Field {
	t := reflect.TypeOf(Run{})
	return Field{Type: t, Children: fieldsOf(t, "", nil)}
})

// Lookup finds the field at a dotted path such as "model.attention" or
// "train.optimizer.lr". It returns nil when the path names no field.
func (f Field) Lookup(path string) *Field {
	cur := &f
	for _, part := range strings.Split(path, ".") {
		cur = cur.Child(part)
		if cur == nil {
			return nil
		}
	}
	return cur
}

func fieldsOf(t reflect.Type, prefix string, index []int) []Field {
	var out []Field
	var argKinds map[string][]string // from the catalogue a kind field names
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("sink")
		if !ok || tag == "-" {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		f := Field{Type: sf.Type, Index: idx, Doc: sf.Tag.Get("doc")}
		if tag == ",kind" {
			f.Kind = true
			f.Path = prefix
		} else {
			f.Key = tag
			f.Path = strings.TrimPrefix(prefix+"."+tag, ".")
		}
		if e := sf.Tag.Get("enum"); e != "" {
			f.Enum = strings.Split(e, "|")
		}
		if c := sf.Tag.Get("catalogue"); c != "" {
			kinds := catalogueKinds(c)
			for _, k := range kinds {
				f.Enum = append(f.Enum, k.Name)
			}
			f.Doc = catalogueDoc(f.Doc, kinds)
			argKinds = catalogueArgKinds(kinds)
		}
		_, isZeroer := sf.Type.MethodByName("IsZero")
		_, parentIsZeroer := t.MethodByName("IsZero")
		json := sf.Tag.Get("json")
		f.emptyOK = isZeroer || (f.Kind && parentIsZeroer) || strings.Contains(json, ",omitempty") || strings.Contains(json, ",omitzero")
		if k := sf.Tag.Get("kinds"); k != "" {
			f.Kinds = strings.Split(k, "|")
		}
		f.Min = parseBound(sf.Tag.Get("min"))
		f.Max = parseBound(sf.Tag.Get("max"))
		if l := sf.Tag.Get("len"); l != "" {
			f.Len, _ = strconv.Atoi(l)
		}
		if sf.Type.Kind() == reflect.Struct {
			f.Children = fieldsOf(sf.Type, f.Path, idx)
		}
		out = append(out, f)
	}
	if argKinds != nil {
		for i := range out {
			if ks, ok := argKinds[out[i].Key]; ok && !out[i].Kind {
				if len(out[i].Kinds) > 0 {
					panic(fmt.Sprintf("config: %s has both a kinds tag and catalogue arguments", out[i].Path)) // programming error in this package
				}
				out[i].Kinds = ks
			}
		}
	}
	return out
}

// emptyMeansDefault reports whether an empty string is this setting's default.
func (f Field) emptyMeansDefault() bool { return f.emptyOK }

// BoundsError says how x breaks the field's bounds ("must be between 1 and
// 256"), or is "" when it is within them.
func (f Field) BoundsError(x float64) string {
	lo, hi := f.Min, f.Max
	switch {
	case lo != nil && hi != nil && (x < *lo || x > *hi):
		return fmt.Sprintf("must be between %s and %s", FormatBound(*lo), FormatBound(*hi))
	case lo != nil && x < *lo:
		return fmt.Sprintf("must be at least %s", FormatBound(*lo))
	case hi != nil && x > *hi:
		return fmt.Sprintf("must be at most %s", FormatBound(*hi))
	}
	return ""
}

// FormatBound writes a bound or a number as the docs and messages show it:
// integers without a decimal point.
func FormatBound(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func parseBound(s string) *float64 {
	if s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(fmt.Sprintf("config: bad bound %q in struct tag", s)) // programming error in this package
	}
	return &v
}

// Value returns the reflect value of the field inside run (addressable when run is).
func (f Field) Value(run reflect.Value) reflect.Value {
	return run.FieldByIndex(f.Index)
}

// Column is one flat setting of a run, for the `runs` table.
type Column struct {
	Name  string // snake_case, e.g. "model_attention_z"
	Value any    // int64, float64, bool or string
}

// Flatten lists every resolved setting of the run as flat snake_case columns,
// in schema order. Constructor kinds take their parent's name
// ("model_attention" = "softmax"); arguments that do not apply to the chosen
// kind are left out of the value (zero) but keep their column, so every run
// has the same columns. Lists become comma-separated strings.
func Flatten(run Run) []Column {
	var cols []Column
	v := reflect.ValueOf(run)
	eachLeaf(v, func(f Field, applies bool) {
		if f.Type.Kind() == reflect.Slice && f.Path == "train.seeds" {
			return // expanded into runs: the run's own seed is its column
		}
		name := strings.ReplaceAll(f.Path, ".", "_")
		cols = append(cols, Column{Name: name, Value: scalar(f.Value(v), applies)})
	})
	cols = append(cols, Column{Name: "seed", Value: run.Seed})
	return cols
}

// eachLeaf calls fn for every scalar or list setting of the run in schema
// order, saying whether it applies: a constructor argument applies only to
// the kinds it is declared for (its parent's kind field chooses).
func eachLeaf(v reflect.Value, fn func(f Field, applies bool)) {
	var walk func(fields []Field, kind string)
	walk = func(fields []Field, kind string) {
		for _, f := range fields {
			if len(f.Children) > 0 {
				childKind := ""
				if kf := f.KindField(); kf != nil {
					childKind = kf.Value(v).String()
				}
				walk(f.Children, childKind)
				continue
			}
			fn(f, kind == "" || f.Kind || f.AcceptsKind(kind))
		}
	}
	walk(Schema().Children, "")
}

func scalar(v reflect.Value, applies bool) any {
	switch v.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		if !applies {
			return int64(0)
		}
		return v.Int()
	case reflect.Float64, reflect.Float32:
		if !applies {
			return float64(0)
		}
		return v.Float()
	case reflect.Bool:
		return applies && v.Bool()
	case reflect.String:
		if !applies {
			return ""
		}
		return v.String()
	case reflect.Slice:
		if !applies {
			return ""
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, ",")
	}
	panic(fmt.Sprintf("config: unsupported field kind %s", v.Kind()))
}

// Canonical returns the run with every constructor argument that does not
// apply to its chosen kind set to zero (e.g. position.base under nope), so
// defaults of unused arguments are not part of the run's identity.
func (r Run) Canonical() Run {
	v := reflect.ValueOf(&r).Elem()
	eachLeaf(v, func(f Field, applies bool) {
		if !applies {
			fv := f.Value(v)
			fv.Set(reflect.Zero(fv.Type()))
		}
	})
	return r
}

// JSON is the canonical JSON of the resolved run (the Parquet footer's config).
func (r Run) JSON() string {
	b, err := json.Marshal(r.Canonical())
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return string(b)
}

// ID is the run's identity: a hash of its resolved config and of Version.
// The experiment name is part of the config, so equal cells of two
// experiments are distinct runs.
func (r Run) ID() string {
	sum := sha256.Sum256([]byte(Version + "\n" + r.JSON()))
	return hex.EncodeToString(sum[:])[:16]
}

// Hash is the full hash of the resolved config alone (footer key config_hash).
func (r Run) Hash() string {
	sum := sha256.Sum256([]byte(r.JSON()))
	return hex.EncodeToString(sum[:])
}
