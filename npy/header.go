package npy

import (
	"github.com/aekit/aekit/internal/limits"

	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

const (
	magic = "\x93NUMPY"

	// maxHeaderLen is the largest header dictionary accepted, in bytes.
	// numpy writes a few hundred bytes at most for the dtypes this
	// package accepts (numpy itself refuses more than 10000 by default).
	maxHeaderLen = 1 << 16

	// maxDims is the largest number of dimensions accepted (NPY_MAXDIMS
	// in numpy 2).
	maxDims = 64

	// maxElems bounds the element count so that the byte sizes of the
	// stored data (at most 8 bytes per element) and of the float32
	// result always fit in an int.
	maxElems = math.MaxInt / 8
)

// hostLittle reports whether the machine is little-endian. It is a property
// of the platform, computed once.
var hostLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// dtype is a numeric NumPy dtype that converts to float32.
type dtype struct {
	kind byte // 'b' bool, 'i' signed, 'u' unsigned, 'f' float
	size int  // bytes per element: 1, 2, 4 or 8
	big  bool // multi-byte elements are big-endian
}

// native reports whether elements are stored in the host's byte order.
func (d dtype) native() bool {
	return d.size == 1 || d.big != hostLittle
}

// header is a parsed .npy header.
type header struct {
	major, minor byte
	descr        string // the dtype descr as written, e.g. "<f8"
	dt           dtype
	fortran      bool
	shape        []int
	n            int   // number of elements
	dataOff      int64 // offset of the data from the start of the .npy stream
}

// readHeader reads and checks the magic, version and header dictionary
// from r, leaving r at the start of the data.
func readHeader(r io.Reader) (*header, error) {
	var pre [10]byte
	m, err := io.ReadFull(r, pre[:8])
	if m < len(magic) && string(pre[:m]) != magic[:m] || m >= len(magic) && string(pre[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not a .npy file (magic bytes %q, want %q)", ErrFormat, pre[:min(m, len(magic))], magic)
	}
	if err != nil {
		return nil, readError(err, "header", int64(m), 8)
	}
	h := &header{major: pre[6], minor: pre[7]}
	var hlen int
	switch {
	case h.major == 1 && h.minor == 0:
		if m, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, readError(err, "header", int64(8+m), 10)
		}
		hlen = int(binary.LittleEndian.Uint16(pre[8:10]))
		h.dataOff = 10
	case (h.major == 2 || h.major == 3) && h.minor == 0:
		var l [4]byte
		if m, err := io.ReadFull(r, l[:]); err != nil {
			return nil, readError(err, "header", int64(8+m), 12)
		}
		n := binary.LittleEndian.Uint32(l[:])
		if n > maxHeaderLen {
			return nil, fmt.Errorf("%w: header length %d bytes exceeds the limit of %d", ErrTooLarge, n, maxHeaderLen)
		}
		hlen = int(n)
		h.dataOff = 12
	default:
		return nil, fmt.Errorf("%w: unsupported .npy format version %d.%d (want 1.0, 2.0 or 3.0)", ErrFormat, h.major, h.minor)
	}
	buf := make([]byte, hlen)
	if m, err := io.ReadFull(r, buf); err != nil {
		return nil, readError(err, "header", h.dataOff+int64(m), h.dataOff+int64(hlen))
	}
	h.dataOff += int64(hlen)
	if h.major == 3 && !utf8.Valid(buf) {
		return nil, fmt.Errorf("%w: version 3.0 header is not valid UTF-8", ErrFormat)
	}
	if err := h.parseDict(buf); err != nil {
		return nil, err
	}
	return h, nil
}

// readError describes err, returned by io.ReadFull while reading what. An
// early end of input gives an error wrapping ErrTruncated and
// io.ErrUnexpectedEOF that tells how many bytes of the .npy stream were
// present (got) out of those declared (want).
func readError(err error, what string, got, want int64) error {
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: %s ends at byte %d of %d: %w", ErrTruncated, what, got, want, io.ErrUnexpectedEOF)
	case errors.Is(err, ErrFormat):
		return err
	default:
		return fmt.Errorf("npy: reading %s: %w", what, err)
	}
}

// parseDict parses the header dictionary, a Python literal such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
//
// followed by padding, and fills h.
func (h *header) parseDict(buf []byte) error {
	p := &parser{buf: buf}
	var seenDescr, seenOrder, seenShape bool
	p.space()
	if !p.eat('{') {
		return p.errorf("header does not start with '{'")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if !p.eat(':') {
			return p.errorf("missing ':' after key %q", limits.Truncate(key, 40))
		}
		p.space()
		switch key {
		case "descr":
			if seenDescr {
				return p.errorf("duplicate key 'descr'")
			}
			seenDescr = true
			if p.peek() == '[' {
				return fmt.Errorf("%w: structured dtype (a list of fields) is not supported", ErrDType)
			}
			s, err := p.str()
			if err != nil {
				return err
			}
			h.descr = s
		case "fortran_order":
			if seenOrder {
				return p.errorf("duplicate key 'fortran_order'")
			}
			seenOrder = true
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
				h.fortran = false
			default:
				return p.errorf("'fortran_order' is not True or False")
			}
		case "shape":
			if seenShape {
				return p.errorf("duplicate key 'shape'")
			}
			seenShape = true
			shape, err := p.tuple()
			if err != nil {
				return err
			}
			h.shape = shape
		default:
			return p.errorf("unexpected key %q", limits.Truncate(key, 40))
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return p.errorf("expected ',' or '}'")
		}
		break
	}
	p.space()
	if p.i != len(p.buf) {
		return p.errorf("unexpected text after the dictionary")
	}
	switch {
	case !seenDescr:
		return p.errorf("missing key 'descr'")
	case !seenOrder:
		return p.errorf("missing key 'fortran_order'")
	case !seenShape:
		return p.errorf("missing key 'shape'")
	}
	dt, err := parseDType(h.descr)
	if err != nil {
		return err
	}
	h.dt = dt
	n := 1
	for _, d := range h.shape {
		if d == 0 {
			n = 0
			break
		}
	}
	if n != 0 {
		for _, d := range h.shape {
			if n > maxElems/d {
				return fmt.Errorf("%w: shape %s has more than %d elements", ErrTooLarge, shapeString(h.shape), maxElems)
			}
			n *= d
		}
	}
	h.n = n
	return nil
}

// parseDType parses a numpy dtype descr such as "<f4" or "|u1".
func parseDType(s string) (dtype, error) {
	big := !hostLittle // '|', '=' and no order character mean native order
	t := s
	if t != "" {
		switch t[0] {
		case '<':
			big, t = false, t[1:]
		case '>':
			big, t = true, t[1:]
		case '|', '=':
			t = t[1:]
		}
	}
	if t == "" {
		return dtype{}, fmt.Errorf("%w: empty dtype %q", ErrDType, limits.Truncate(s, 40))
	}
	kind := t[0]
	size, err := strconv.Atoi(t[1:])
	switch kind {
	case 'c':
		return dtype{}, fmt.Errorf("%w: complex dtype %q", ErrDType, limits.Truncate(s, 40))
	case 'O':
		return dtype{}, fmt.Errorf("%w: object dtype %q", ErrDType, limits.Truncate(s, 40))
	case 'S', 'U', 'a':
		return dtype{}, fmt.Errorf("%w: string dtype %q", ErrDType, limits.Truncate(s, 40))
	case 'V':
		return dtype{}, fmt.Errorf("%w: void or structured dtype %q", ErrDType, limits.Truncate(s, 40))
	case 'M', 'm':
		return dtype{}, fmt.Errorf("%w: datetime or timedelta dtype %q", ErrDType, limits.Truncate(s, 40))
	}
	ok := err == nil
	if ok {
		switch kind {
		case 'b':
			ok = size == 1
		case 'i', 'u':
			ok = size == 1 || size == 2 || size == 4 || size == 8
		case 'f':
			ok = size == 2 || size == 4 || size == 8
		default:
			ok = false
		}
	}
	if !ok {
		return dtype{}, fmt.Errorf("%w: %q (want bool, int8..int64, uint8..uint64, float16, float32 or float64)", ErrDType, limits.Truncate(s, 40))
	}
	return dtype{kind: kind, size: size, big: big}, nil
}

// parser scans a Python literal.
type parser struct {
	buf []byte
	i   int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: header at byte %d: %s", ErrFormat, p.i, fmt.Sprintf(format, args...))
}

func (p *parser) space() {
	for p.i < len(p.buf) {
		switch p.buf[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.buf) {
		return p.buf[p.i]
	}
	return 0
}

func (p *parser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

// word consumes the identifier w if it comes next, as a whole word.
func (p *parser) word(w string) bool {
	if !bytes.HasPrefix(p.buf[p.i:], []byte(w)) {
		return false
	}
	if j := p.i + len(w); j < len(p.buf) && isIdent(p.buf[j]) {
		return false
	}
	p.i += len(w)
	return true
}

func isIdent(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// str parses a quoted string without escapes, as numpy writes keys and
// dtype descrs.
func (p *parser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("expected a quoted string")
	}
	j := bytes.IndexByte(p.buf[p.i+1:], q)
	if j < 0 {
		return "", p.errorf("unterminated string")
	}
	s := p.buf[p.i+1 : p.i+1+j]
	if bytes.ContainsAny(s, "\\\n") {
		return "", p.errorf("unsupported escape or newline in string")
	}
	p.i += j + 2
	return string(s), nil
}

// tuple parses a tuple of non-negative integers such as (), (3,) or (2, 3).
func (p *parser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, p.errorf("'shape' is not a tuple")
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			if len(shape) == 1 {
				// (3) is the integer 3 in Python, not a tuple.
				return nil, p.errorf("'shape' is not a tuple (one-element tuples need a trailing comma)")
			}
			return shape, nil
		}
		d, err := p.dim()
		if err != nil {
			return nil, err
		}
		if len(shape) == maxDims {
			return nil, fmt.Errorf("%w: shape has more than %d dimensions", ErrTooLarge, maxDims)
		}
		shape = append(shape, d)
		p.space()
		if p.eat(',') {
			p.space()
			if p.eat(')') {
				return shape, nil
			}
			continue
		}
		if p.eat(')') {
			if len(shape) == 1 {
				return nil, p.errorf("'shape' is not a tuple (one-element tuples need a trailing comma)")
			}
			return shape, nil
		}
		return nil, p.errorf("expected ',' or ')' in 'shape'")
	}
}

// dim parses one dimension: a decimal integer, with the 'L' suffix that
// Python 2 wrote for longs.
func (p *parser) dim() (int, error) {
	start := p.i
	if p.peek() == '-' || p.peek() == '+' {
		p.i++
	}
	for p.i < len(p.buf) && '0' <= p.buf[p.i] && p.buf[p.i] <= '9' {
		p.i++
	}
	text := string(p.buf[start:p.i])
	if p.peek() == 'L' {
		p.i++
	}
	d, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("%w: dimension %s does not fit in 64 bits", ErrTooLarge, limits.Truncate(text, 40))
		}
		p.i = start
		return 0, p.errorf("invalid dimension %q in 'shape'", limits.Truncate(text, 40))
	}
	if d < 0 {
		p.i = start
		return 0, p.errorf("negative dimension %d in 'shape'", d)
	}
	if d > maxElems {
		return 0, fmt.Errorf("%w: dimension %d exceeds the limit of %d", ErrTooLarge, d, maxElems)
	}
	return int(d), nil
}

// shapeString formats a shape as a Python tuple: (), (3,) or (2, 3).
func shapeString(shape []int) string {
	b := []byte{'('}
	for i, d := range shape {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	if len(shape) == 1 {
		b = append(b, ',')
	}
	return string(append(b, ')'))
}
