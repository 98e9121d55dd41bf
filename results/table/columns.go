package table

import (
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// column is one column of a table whose rows are R: its name, its Arrow
// type, whether it may be NULL, and how a row's field is written to it and
// read back. The column lists of schema.go, built from these, drive the
// writer, the reader and the reference in docs/results.md.
//
// A nullable column stores its field's "not applicable" value as NULL: -1
// for integers, NaN for floats, "" for strings. NULL (or a missing optional
// column) reads back as that value, whatever the column.
type column[R any] struct {
	name     string
	typ      arrow.DataType
	nullable bool
	// optional: files written before the column existed lack it; it then
	// reads as NULL. A missing column that is not optional is an error.
	optional bool
	doc      string // its meaning, for docs/results.md
	// appender binds a builder of typ to a function that appends one row's value.
	appender func(b array.Builder, nullable bool) func(r *R) error
	// reader binds an array (nil: the column is missing) to a function that
	// sets one row's field from position i; it fails on a wrongly typed array.
	reader func(a arrow.Array) (func(i int, r *R) error, error)
}

// orNull marks the column nullable.
func (c column[R]) orNull() column[R] { c.nullable = true; return c }

// addedLater marks the column as absent from files of older versions.
func (c column[R]) addedLater() column[R] { c.optional = true; return c }

func (c column[R]) field() arrow.Field {
	return arrow.Field{Name: c.name, Type: c.typ, Nullable: c.nullable}
}

// build makes the column's array of rows.
func (c column[R]) build(mem memory.Allocator, rows []R) (arrow.Array, error) {
	b := array.NewBuilder(mem, c.typ)
	defer b.Release()
	b.Reserve(len(rows))
	put := c.appender(b, c.nullable)
	for i := range rows {
		if err := put(&rows[i]); err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
	}
	return b.NewArray(), nil
}

// valueBuilder and valueArray are the Arrow builders and arrays of values of
// Go type T (*array.Int64Builder and *array.Int64 for int64, ...).
type valueBuilder[T any] interface {
	array.Builder
	Append(T)
}

type valueArray[T any] interface {
	arrow.Array
	Value(int) T
}

// scalar is a column of a field of Go type T, stored as Arrow type typ
// through builders B and arrays A. isNull and null are the field's "not
// applicable" test and value.
func scalar[R, T any, B valueBuilder[T], A valueArray[T]](name string, typ arrow.DataType, field func(*R) *T, isNull func(T) bool, null T, doc string) column[R] {
	return scalarFn[R, T, B, A](name, typ, func(r *R) T { return *field(r) }, func(r *R, v T) { *field(r) = v }, isNull, null, doc)
}

// scalarFn is scalar for a value that get reads from a row and set writes
// to it (a value that is not a field of its own, e.g. in a map).
func scalarFn[R, T any, B valueBuilder[T], A valueArray[T]](name string, typ arrow.DataType, get func(*R) T, set func(*R, T), isNull func(T) bool, null T, doc string) column[R] {
	return column[R]{
		name: name, typ: typ, doc: doc,
		appender: func(b array.Builder, nullable bool) func(*R) error {
			vb := b.(B)
			return func(r *R) error {
				if v := get(r); !nullable || !isNull(v) {
					vb.Append(v)
				} else {
					vb.AppendNull()
				}
				return nil
			}
		},
		reader: func(a arrow.Array) (func(int, *R) error, error) {
			if a == nil {
				return func(_ int, r *R) error { set(r, null); return nil }, nil
			}
			va, ok := a.(A)
			if !ok {
				return nil, wrongType(name, a, typ)
			}
			return func(i int, r *R) error {
				if va.IsNull(i) {
					set(r, null)
				} else {
					set(r, va.Value(i))
				}
				return nil
			}, nil
		},
	}
}

func wrongType(name string, a arrow.Array, want arrow.DataType) error {
	return fmt.Errorf("column %q has type %s, want %s", name, a.DataType(), want)
}

func negative[T int32 | int64](v T) bool { return v < 0 }

func int64Col[R any](name string, field func(*R) *int64, doc string) column[R] {
	return scalar[R, int64, *array.Int64Builder, *array.Int64](name, arrow.PrimitiveTypes.Int64, field, negative[int64], -1, doc)
}

func int32Col[R any](name string, field func(*R) *int32, doc string) column[R] {
	return scalar[R, int32, *array.Int32Builder, *array.Int32](name, arrow.PrimitiveTypes.Int32, field, negative[int32], -1, doc)
}

func float64Col[R any](name string, field func(*R) *float64, doc string) column[R] {
	return scalar[R, float64, *array.Float64Builder, *array.Float64](name, arrow.PrimitiveTypes.Float64, field, math.IsNaN, math.NaN(), doc)
}

// float64Fn is a DOUBLE column of a value get reads and set writes.
func float64Fn[R any](name, doc string, get func(*R) float64, set func(*R, float64)) column[R] {
	return scalarFn[R, float64, *array.Float64Builder, *array.Float64](name, arrow.PrimitiveTypes.Float64, get, set, math.IsNaN, math.NaN(), doc)
}

// boolFn is a BOOLEAN column of a value get reads and set writes.
func boolFn[R any](name, doc string, get func(*R) bool, set func(*R, bool)) column[R] {
	never := func(bool) bool { return false }
	return scalarFn[R, bool, *array.BooleanBuilder, *array.Boolean](name, arrow.FixedWidthTypes.Boolean, get, set, never, false, doc)
}

func boolCol[R any](name string, field func(*R) *bool, doc string) column[R] {
	never := func(bool) bool { return false }
	return scalar[R, bool, *array.BooleanBuilder, *array.Boolean](name, arrow.FixedWidthTypes.Boolean, field, never, false, doc)
}

func stringCol[R any](name string, field func(*R) *string, doc string) column[R] {
	return encodedString(name, doc,
		func(r *R) (string, error) { return *field(r), nil },
		func(r *R, s string) error { *field(r) = s; return nil })
}

// encodedString is a string column holding an encoding of a field: encode
// gives a row's string ("" is NULL in a nullable column), decode sets the
// field from one (NULL reads as "").
func encodedString[R any](name, doc string, encode func(*R) (string, error), decode func(*R, string) error) column[R] {
	return column[R]{
		name: name, typ: arrow.BinaryTypes.String, doc: doc,
		appender: func(b array.Builder, nullable bool) func(*R) error {
			sb := b.(*array.StringBuilder)
			return func(r *R) error {
				s, err := encode(r)
				if err != nil {
					return err
				}
				if nullable && s == "" {
					sb.AppendNull()
				} else {
					sb.Append(s)
				}
				return nil
			}
		},
		reader: func(a arrow.Array) (func(int, *R) error, error) {
			if a == nil {
				return func(_ int, r *R) error { return decode(r, "") }, nil
			}
			sa, ok := a.(*array.String)
			if !ok {
				return nil, wrongType(name, a, arrow.BinaryTypes.String)
			}
			return func(i int, r *R) error {
				s := ""
				if !sa.IsNull(i) {
					s = sa.Value(i)
				}
				if err := decode(r, s); err != nil {
					return fmt.Errorf("column %s: %w", name, err)
				}
				return nil
			}, nil
		},
	}
}

// timeCol is a UTC timestamp column in microseconds; it reads timestamps of
// any unit, and NULL as the zero time.
func timeCol[R any](name string, field func(*R) *time.Time, doc string) column[R] {
	typ := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	return column[R]{
		name: name, typ: typ, doc: doc,
		appender: func(b array.Builder, _ bool) func(*R) error {
			tb := b.(*array.TimestampBuilder)
			return func(r *R) error {
				tb.Append(arrow.Timestamp(field(r).UnixMicro()))
				return nil
			}
		},
		reader: func(a arrow.Array) (func(int, *R) error, error) {
			if a == nil {
				return func(_ int, r *R) error { *field(r) = time.Time{}; return nil }, nil
			}
			ta, ok := a.(*array.Timestamp)
			if !ok {
				return nil, wrongType(name, a, typ)
			}
			unit := ta.DataType().(*arrow.TimestampType).Unit
			return func(i int, r *R) error {
				if ta.IsNull(i) {
					*field(r) = time.Time{}
				} else {
					*field(r) = ta.Value(i).ToTime(unit).UTC()
				}
				return nil
			}, nil
		},
	}
}

// arrowFields is the Arrow schema fields of cols.
func arrowFields[R any](cols []column[R]) []arrow.Field {
	out := make([]arrow.Field, len(cols))
	for i, c := range cols {
		out[i] = c.field()
	}
	return out
}

// buildAll makes the arrays of cols for rows; the caller releases them.
func buildAll[R any](mem memory.Allocator, cols []column[R], rows []R) ([]arrow.Array, error) {
	arrs := make([]arrow.Array, 0, len(cols))
	for _, c := range cols {
		a, err := c.build(mem, rows)
		if err != nil {
			releaseAll(arrs)
			return nil, err
		}
		arrs = append(arrs, a)
	}
	return arrs, nil
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// record is a record of rows in the columns cols.
func record[R any](mem memory.Allocator, cols []column[R], rows []R, meta arrow.Metadata) (arrow.Record, error) {
	arrs, err := buildAll(mem, cols, rows)
	if err != nil {
		return nil, err
	}
	defer releaseAll(arrs)
	return array.NewRecord(arrow.NewSchema(arrowFields(cols), &meta), arrs, int64(len(rows))), nil
}

// decode reads rec's rows through cols; rec may have more columns.
func decode[R any](rec arrow.Record, cols []column[R]) ([]R, error) {
	sets := make([]func(int, *R) error, len(cols))
	for j, c := range cols {
		var a arrow.Array
		if idx := rec.Schema().FieldIndices(c.name); len(idx) > 0 {
			a = rec.Column(idx[0])
		} else if !c.optional {
			return nil, fmt.Errorf("missing column %q", c.name)
		}
		set, err := c.reader(a)
		if err != nil {
			return nil, err
		}
		sets[j] = set
	}
	rows := make([]R, rec.NumRows())
	for i := range rows {
		for _, set := range sets {
			if err := set(i, &rows[i]); err != nil {
				return nil, err
			}
		}
	}
	return rows, nil
}

// columnNames is the set of the columns' names.
func columnNames[R any](cols []column[R]) map[string]bool {
	out := make(map[string]bool, len(cols))
	for _, c := range cols {
		out[c.name] = true
	}
	return out
}
