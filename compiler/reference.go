package compiler

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/sinkrun/sinkrun/config"
)

// ReferenceMarkdown documents every block and key of the language, generated
// from config.Schema() and config.Default(); docs/dsl.md embeds it.
func ReferenceMarkdown() string {
	var b strings.Builder
	def := reflect.ValueOf(config.Default())
	for _, blk := range schema.Children {
		fmt.Fprintf(&b, "### `%s { ... }`\n\n%s.\n\n", blk.Key, capitalize(blk.Doc))
		b.WriteString("| setting | accepts | default | vary path | meaning |\n| --- | --- | --- | --- | --- |\n")
		for _, f := range blk.Children {
			f := f
			if f.IsConstructor() {
				kf := f.KindField()
				fmt.Fprintf(&b, "| `%s` | %s | `%s` | `%s` | %s. Kinds: %s |\n", f.Key, accepts(&f),
					kf.Value(def).String(), f.Path, capitalize(f.Doc), escape(kf.Doc))
				for _, a := range f.Children {
					a := a
					if a.Kind {
						continue
					}
					applies := "any kind"
					if len(a.Kinds) > 0 {
						applies = strings.Join(a.Kinds, ", ")
					}
					fmt.Fprintf(&b, "| `%s(%s: ...)` | %s; for %s | `%s` | `%s` | %s |\n", f.Key, a.Key, accepts(&a), applies,
						formatDefault(a.Value(def)), a.Path, escape(capitalize(a.Doc)))
				}
				continue
			}
			path := "`" + f.Path + "`"
			if f.Path == "train.seeds" {
				path = "(each seed is a run)"
			}
			fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s |\n", f.Key, accepts(&f), formatDefault(f.Value(def)), path, escape(capitalize(f.Doc)))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func accepts(f *config.Field) string {
	s := describeType(f)
	if f.IsConstructor() {
		s = "constructor: " + strings.Join(f.KindField().Enum, ", ")
	} else if len(f.Enum) > 0 {
		s = strings.Join(f.Enum, ", ")
	}
	switch {
	case f.Min != nil && f.Max != nil:
		s += fmt.Sprintf(", %s to %s", config.FormatBound(*f.Min), config.FormatBound(*f.Max))
	case f.Min != nil:
		s += fmt.Sprintf(", at least %s", config.FormatBound(*f.Min))
	case f.Max != nil:
		s += fmt.Sprintf(", at most %s", config.FormatBound(*f.Max))
	}
	if f.Type.Kind() == reflect.Slice && (f.Min != nil || f.Max != nil) {
		s += " each"
	}
	return escape(s)
}

func formatDefault(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.String:
		return v.String()
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatDefault(v.Index(i))
			if v.Index(i).Kind() == reflect.String {
				parts[i] = strconv.Quote(parts[i])
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
