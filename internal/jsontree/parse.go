// Package jsontree reads JSON bodies as a tree of generic values, and reads
// fields of that tree strictly by type, collecting the first problem with
// its path.
package jsontree

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The decoders read responses as a tree of generic JSON values: nil, bool,
// string, json.Number (numbers keep their exact text), []any and Object.
// Parse builds that tree in one pass over the body, with strings and
// numbers sliced from one copy of it and every object and array allocated
// once at its final size. encoding/json builds a map for every object, and
// a graph response is thousands of two-field objects; its maps and their
// garbage were the largest cost of decoding. FuzzParseJSON holds Parse
// to encoding/json's results.

// Object is a JSON object: its members in the order the document gives
// them. A response's objects are small, so a scan finds a Member as fast as
// a map would.
type Object []Member

// Member is one key and value of an Object.
type Member struct {
	Key   string
	Value any
}

// lookup returns the value of key and whether the object has it. Of
// repeated keys the last counts, as with encoding/json.
func (o Object) Lookup(key string) (any, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].Key == key {
			return o[i].Value, true
		}
	}
	return nil, false
}

// get is the value of key, nil if the object lacks it.
func (o Object) Get(key string) any {
	v, _ := o.Lookup(key)
	return v
}

// plain is v as encoding/json would have decoded it with UseNumber: objects
// become maps.
func Plain(v any) any {
	switch x := v.(type) {
	case Object:
		m := make(map[string]any, len(x))
		for _, mb := range x {
			m[mb.Key] = Plain(mb.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Plain(e)
		}
		return out
	}
	return v
}

// maxJSONDepth is encoding/json's limit on nesting.
const maxJSONDepth = 10000

// Parse parses a document holding exactly one JSON value. Invalid
// UTF-8 and lone surrogates in strings become U+FFFD, as with encoding/json.
func Parse(body []byte) (any, error) {
	p := jsonParser{s: string(body)}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.fail("data after the JSON document")
	}
	return v, nil
}

type jsonParser struct {
	s       string
	i       int
	members []Member // of the objects being parsed, innermost last
	items   []any    // of the arrays being parsed, innermost last
}

func (p *jsonParser) fail(what string) error {
	return fmt.Errorf("%w: invalid JSON: %s at offset %d", ErrMalformed, what, p.i)
}

// unexpected is the error for the byte at p.i, or for the end of the body.
func (p *jsonParser) unexpected(context string) error {
	if p.i >= len(p.s) {
		return p.fail("unexpected end " + context)
	}
	return p.fail(fmt.Sprintf("invalid character %q %s", p.s[p.i], context))
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next is the byte at p.i, 0 at the end.
func (p *jsonParser) next() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *jsonParser) value(depth int) (any, error) {
	switch c := p.next(); {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		return p.str()
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, p.unexpected("looking for beginning of value")
}

func (p *jsonParser) literal(word string) error {
	if !strings.HasPrefix(p.s[p.i:], word) {
		return p.unexpected("in literal " + word)
	}
	p.i += len(word)
	return nil
}

func (p *jsonParser) object(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, p.fail("exceeded max depth")
	}
	p.i++ // {
	p.space()
	if p.next() == '}' {
		p.i++
		return Object{}, nil
	}
	base := len(p.members)
	defer func() { p.members = p.members[:base] }()
	for {
		if p.next() != '"' {
			return nil, p.unexpected("looking for beginning of object key string")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.next() != ':' {
			return nil, p.unexpected("after object key")
		}
		p.i++
		p.space()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.members = append(p.members, Member{key, v})
		p.space()
		switch p.next() {
		case ',':
			p.i++
			p.space()
			continue
		case '}':
			p.i++
			return append(make(Object, 0, len(p.members)-base), p.members[base:]...), nil
		}
		return nil, p.unexpected("after object key:value pair")
	}
}

func (p *jsonParser) array(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, p.fail("exceeded max depth")
	}
	p.i++ // [
	p.space()
	if p.next() == ']' {
		p.i++
		return []any{}, nil
	}
	base := len(p.items)
	defer func() { p.items = p.items[:base] }()
	for {
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.items = append(p.items, v)
		p.space()
		switch p.next() {
		case ',':
			p.i++
			p.space()
			continue
		case ']':
			p.i++
			return append(make([]any, 0, len(p.items)-base), p.items[base:]...), nil
		}
		return nil, p.unexpected("after array element")
	}
}

func (p *jsonParser) digits() int {
	start := p.i
	for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i - start
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? as its text.
func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.next() == '-' {
		p.i++
	}
	switch c := p.next(); {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return nil, p.unexpected("in numeric literal")
	}
	if p.next() == '.' {
		p.i++
		if p.digits() == 0 {
			return nil, p.unexpected("after decimal point in numeric literal")
		}
	}
	if c := p.next(); c == 'e' || c == 'E' {
		p.i++
		if c := p.next(); c == '+' || c == '-' {
			p.i++
		}
		if p.digits() == 0 {
			return nil, p.unexpected("in exponent of numeric literal")
		}
	}
	return json.Number(p.s[start:p.i]), nil
}

// str reads a string. One without escapes or invalid UTF-8 is a slice of
// the document.
func (p *jsonParser) str() (string, error) {
	p.i++ // "
	start := p.i
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			return p.s[start : p.i-1], nil
		case c == '\\':
			return p.unquote(start)
		case c < 0x20:
			return "", p.unexpected("in string literal")
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				return p.unquote(start)
			}
			p.i += size
		}
	}
	return "", p.unexpected("in string literal")
}

// unquote finishes a string from p.i that needs rewriting: escapes,
// invalid UTF-8. start is where its text began.
func (p *jsonParser) unquote(start int) (string, error) {
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c < 0x20:
			return "", p.unexpected("in string literal")
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.i++
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteRune(r) // RuneError for an invalid byte
			p.i += size
		}
	}
	return "", p.unexpected("in string literal")
}

var escapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// escape writes the escape sequence at p.i.
func (p *jsonParser) escape(b *strings.Builder) error {
	p.i++ // \
	c := p.next()
	if c != 'u' {
		if escapes[c] == 0 {
			return p.unexpected("in string escape code")
		}
		b.WriteByte(escapes[c])
		p.i++
		return nil
	}
	r, err := p.hex4()
	if err != nil {
		return err
	}
	if utf16.IsSurrogate(r) {
		// A pair is one character; anything else makes this one U+FFFD
		// and leaves what follows to be read on its own.
		if low, ok := p.peekHex4(); ok {
			if pair := utf16.DecodeRune(r, low); pair != utf8.RuneError {
				p.i += 6
				r = pair
			} else {
				r = utf8.RuneError
			}
		} else {
			r = utf8.RuneError
		}
	}
	b.WriteRune(r)
	return nil
}

// hex4 reads the four hex digits after \u at p.i.
func (p *jsonParser) hex4() (rune, error) {
	p.i++ // u
	var r rune
	for range 4 {
		d := hexValue(p.next())
		if d < 0 {
			return 0, p.unexpected("in \\u hexadecimal character escape")
		}
		r = r<<4 | d
		p.i++
	}
	return r, nil
}

// peekHex4 reads a \uXXXX at p.i without moving.
func (p *jsonParser) peekHex4() (rune, bool) {
	if len(p.s)-p.i < 6 || p.s[p.i] != '\\' || p.s[p.i+1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.s[p.i+2 : p.i+6]) {
		d := hexValue(c)
		if d < 0 {
			return 0, false
		}
		r = r<<4 | d
	}
	return r, true
}

func hexValue(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}
