package compiler

import (
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/dsl"
)

// typed is a value checked against a schema field, ready to be stored.
type typed struct {
	val   reflect.Value
	canon string             // canonical text, e.g. "sigmoid(z: sum)" or "0.003"
	pos   dsl.Pos            // of the value
	sub   map[string]dsl.Pos // constructor arguments written explicitly: path -> position
}

var defaultRun = reflect.ValueOf(config.Default())

// convert checks e against field f and returns its value. Problems are
// appended to *errs; ok is false when any was found.
func convert(f *config.Field, e dsl.Expr, errs *ErrorList) (t typed, ok bool) {
	t.pos = e.Position()
	n := len(*errs)
	fail := func(format string, args ...any) {
		*errs = append(*errs, errorf(e.Position(), format, args...))
	}
	switch {
	case f.IsConstructor():
		t = convertConstructor(f, e, errs)
	case f.Type.Kind() == reflect.Struct:
		fail("%s is a block, not a value", f.Path)
	case f.Type.Kind() == reflect.Slice:
		l, isList := e.(*dsl.List)
		if !isList {
			fail("%s: expected %s, found %s", f.Path, describeType(f), describeExpr(e))
			break
		}
		if f.Len > 0 && len(l.Elems) != f.Len {
			fail("%s: expected a list of %d values, found %d", f.Path, f.Len, len(l.Elems))
			break
		}
		t.val = reflect.MakeSlice(f.Type, 0, len(l.Elems))
		var parts []string
		for _, el := range l.Elems {
			v, c, ok := convertScalar(f, f.Type.Elem(), el, errs)
			if ok {
				t.val = reflect.Append(t.val, v)
				parts = append(parts, c)
			}
		}
		t.canon = "[" + strings.Join(parts, ", ") + "]"
	default:
		var v reflect.Value
		v, t.canon, _ = convertScalar(f, f.Type, e, errs)
		t.val = v
	}
	return t, len(*errs) == n
}

func convertScalar(f *config.Field, typ reflect.Type, e dsl.Expr, errs *ErrorList) (reflect.Value, string, bool) {
	fail := func(format string, args ...any) (reflect.Value, string, bool) {
		*errs = append(*errs, errorf(e.Position(), format, args...))
		return reflect.Value{}, "", false
	}
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.Int, reflect.Int64:
		num, isNum := e.(*dsl.Number)
		if !isNum {
			return fail("%s: expected an integer, found %s", f.Path, describeExpr(e))
		}
		i := num.Int
		if !num.IsInt {
			if num.Float != math.Trunc(num.Float) || math.Abs(num.Float) > 1<<53 {
				return fail("%s: expected an integer, found %s", f.Path, num.Text)
			}
			i = int64(num.Float)
		}
		if msg := f.BoundsError(float64(i)); msg != "" {
			return fail("%s: %s, found %s", f.Path, msg, num.Text)
		}
		v.SetInt(i)
		return v, strconv.FormatInt(i, 10), true
	case reflect.Float64:
		num, isNum := e.(*dsl.Number)
		if !isNum {
			return fail("%s: expected a number, found %s", f.Path, describeExpr(e))
		}
		if msg := f.BoundsError(num.Float); msg != "" {
			return fail("%s: %s, found %s", f.Path, msg, num.Text)
		}
		v.SetFloat(num.Float)
		return v, strconv.FormatFloat(num.Float, 'g', -1, 64), true
	case reflect.Bool:
		id, isIdent := e.(*dsl.Ident)
		if !isIdent || id.Name != "true" && id.Name != "false" {
			return fail("%s: expected true or false, found %s", f.Path, describeExpr(e))
		}
		v.SetBool(id.Name == "true")
		return v, id.Name, true
	case reflect.String:
		if len(f.Enum) > 0 {
			id, isIdent := e.(*dsl.Ident)
			if s, isStr := e.(*dsl.String); isStr && contains(f.Enum, s.Value) {
				return fail("%s: write %s without quotes", f.Path, s.Value)
			}
			if !isIdent {
				return fail("%s: expected %s, found %s", f.Path, oneOf(f.Enum), describeExpr(e))
			}
			if !contains(f.Enum, id.Name) {
				return fail("%s: unknown value %q: expected %s%s", f.Path, id.Name, oneOf(f.Enum), didYouMean(id.Name, f.Enum))
			}
			v.SetString(id.Name)
			return v, id.Name, true
		}
		s, isStr := e.(*dsl.String)
		if !isStr {
			return fail("%s: expected a string in double quotes, found %s", f.Path, describeExpr(e))
		}
		v.SetString(s.Value)
		return v, strconv.Quote(s.Value), true
	}
	return fail("%s: this setting cannot be written in a .sink file", f.Path)
}

func convertConstructor(f *config.Field, e dsl.Expr, errs *ErrorList) typed {
	t := typed{pos: e.Position(), sub: map[string]dsl.Pos{}}
	kf := f.KindField()
	var name string
	var args []*dsl.Arg
	switch e := e.(type) {
	case *dsl.Ident:
		name = e.Name
	case *dsl.Call:
		name, args = e.Name, e.Args
	default:
		if s, isStr := e.(*dsl.String); isStr && contains(kf.Enum, s.Value) {
			*errs = append(*errs, errorf(e.Position(), "%s: write %s without quotes", f.Path, s.Value))
			return t
		}
		*errs = append(*errs, errorf(e.Position(), "%s: expected %s (optionally with arguments, e.g. %s(...)), found %s",
			f.Path, oneOf(kf.Enum), kf.Enum[0], describeExpr(e)))
		return t
	}
	if !contains(kf.Enum, name) {
		*errs = append(*errs, errorf(e.Position(), "%s: unknown kind %q: expected %s%s", f.Path, name, oneOf(kf.Enum), didYouMean(name, kf.Enum)))
		return t
	}
	v := reflect.New(f.Type).Elem()
	v.Set(deepCopy(f.Value(defaultRun)))
	rel := func(c *config.Field) []int { return c.Index[len(f.Index):] }
	v.FieldByIndex(rel(kf)).SetString(name)
	var parts []string
	seen := map[string]dsl.Pos{}
	for _, a := range args {
		if p, dup := seen[a.Name]; dup {
			*errs = append(*errs, errorf(a.Pos, "%s: argument %q given twice (first at line %d)", f.Path, a.Name, p.Line))
			continue
		}
		seen[a.Name] = a.Pos
		c := f.Child(a.Name)
		if c == nil {
			keys := f.Keys()
			valid := "; " + name + " takes no arguments"
			if applicable := argsFor(f, name); len(applicable) > 0 {
				valid = "; " + name + " takes " + strings.Join(applicable, ", ")
			}
			*errs = append(*errs, errorf(a.Pos, "%s: unknown argument %q%s%s", f.Path, a.Name, valid, didYouMean(a.Name, keys)))
			continue
		}
		if !c.AcceptsKind(name) {
			*errs = append(*errs, errorf(a.Pos, "%s: argument %q does not apply to %s (only to %s)", f.Path, a.Name, name, strings.Join(c.Kinds, ", ")))
			continue
		}
		at, ok := convert(c, a.Value, errs)
		if !ok {
			continue
		}
		v.FieldByIndex(rel(c)).Set(at.val)
		t.sub[c.Path] = a.Value.Position()
		parts = append(parts, a.Name+": "+at.canon)
	}
	t.val = v
	t.canon = name
	if len(parts) > 0 {
		t.canon += "(" + strings.Join(parts, ", ") + ")"
	}
	return t
}

// argsFor lists the arguments a constructor kind accepts.
func argsFor(f *config.Field, kind string) []string {
	var out []string
	for _, c := range f.Children {
		if !c.Kind && c.AcceptsKind(kind) {
			out = append(out, c.Key)
		}
	}
	return out
}

// describeType says in words what a field accepts.
func describeType(f *config.Field) string {
	if f.IsConstructor() {
		return oneOf(f.KindField().Enum)
	}
	t := f.Type
	list := t.Kind() == reflect.Slice
	if list {
		t = t.Elem()
	}
	var s string
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		s = "integer"
	case reflect.Float64:
		s = "number"
	case reflect.Bool:
		s = "true or false"
	case reflect.String:
		if len(f.Enum) > 0 {
			s = oneOf(f.Enum)
		} else {
			s = "string"
		}
	case reflect.Struct:
		return "a block"
	}
	if list {
		n := ""
		if f.Len > 0 {
			n = strconv.Itoa(f.Len) + " "
		}
		switch t.Kind() {
		case reflect.Int, reflect.Int64, reflect.Float64, reflect.String:
			if len(f.Enum) == 0 {
				return "a list of " + n + s + "s"
			}
		}
		return "a list of " + n + "values (" + s + ")"
	}
	if t.Kind() == reflect.Int || t.Kind() == reflect.Int64 {
		return "an integer"
	}
	if t.Kind() == reflect.Float64 || t.Kind() == reflect.String && len(f.Enum) == 0 {
		return "a " + s
	}
	return s
}

// describeExpr names a value in an error message.
func describeExpr(e dsl.Expr) string {
	switch e := e.(type) {
	case *dsl.Number:
		return e.Text
	case *dsl.String:
		s := strconv.Quote(e.Value)
		if len(s) > 40 {
			s = s[:37] + `..."`
		}
		return "the string " + s
	case *dsl.Ident:
		return e.Name
	case *dsl.List:
		return "a list"
	case *dsl.Call:
		return e.Name + "(...)"
	}
	return "a value"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// deepCopy copies a value, duplicating slices so runs share no memory.
func deepCopy(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if out.Field(i).CanSet() {
				out.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			return out
		}
		out.Set(reflect.MakeSlice(v.Type(), v.Len(), v.Len()))
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
	default:
		out.Set(v)
	}
	return out
}
