package dsl

import (
	"strconv"
	"strings"
)

// String writes a claim in its canonical form, as Format writes it:
// `sink_1[attention: softmax] > sink_1[attention: sigmoid] + 50`.
func (c *Claim) String() string {
	s := c.Left.String() + " " + c.Op + " " + c.Right.String()
	if c.Disagrees {
		return "disagrees " + s
	}
	return s
}

// String writes the terms of a sum separated by " + " and " - ".
func (s *Sum) String() string {
	var b strings.Builder
	for i, t := range s.Terms {
		switch {
		case i > 0 && t.Neg:
			b.WriteString(" - ")
		case i > 0:
			b.WriteString(" + ")
		case t.Neg:
			b.WriteString("-")
		}
		b.WriteString(t.operand())
	}
	return b.String()
}

func (t *Term) operand() string {
	if t.Number != nil {
		return t.Number.Text
	}
	return t.Metric.String()
}

// String writes `name(args)[selector]`.
func (m *MetricRef) String() string {
	var b strings.Builder
	b.WriteString(m.Name)
	if len(m.Args) > 0 {
		b.WriteString("(")
		for i, a := range m.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(a.Name + ": " + ExprString(a.Value))
		}
		b.WriteString(")")
	}
	if len(m.Selector) > 0 {
		b.WriteString("[")
		for i, s := range m.Selector {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.Path + ": " + ExprString(s.Value))
		}
		b.WriteString("]")
	}
	return b.String()
}

// ExprString writes a value as the formatter does, on one line.
func ExprString(e Expr) string {
	switch v := e.(type) {
	case *Number:
		return v.Text
	case *String:
		return strconv.Quote(v.Value)
	case *Ident:
		return v.Name
	case *List:
		parts := make([]string, len(v.Elems))
		for i, el := range v.Elems {
			parts[i] = ExprString(el)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *Call:
		parts := make([]string, len(v.Args))
		for i, a := range v.Args {
			parts[i] = a.Name + ": " + ExprString(a.Value)
		}
		return v.Name + "(" + strings.Join(parts, ", ") + ")"
	}
	return ""
}
