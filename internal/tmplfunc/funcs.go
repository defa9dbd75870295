package tmplfunc

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/adler32"
	"math"
	"math/big"
	"net/url"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"dario.cat/mergo"
	"github.com/huandu/xstrings"
	"github.com/mitchellh/copystructure"
)

// Map returns a new map of every function, for template.Funcs. The map is the caller's.
// It is built on each call rather than at package initialization, which every appgen
// command (--version included) would pay for.
//
// The functions are sprig's hermetic ones by sprig's names. Several take their arguments in
// an order that reads well in a pipeline ({{"{{"}} "foo" | repeat 3 {{"}}"}}): the subject last.
func Map() template.FuncMap {
	return template.FuncMap{
		// strings
		"abbrev":     abbrev,
		"abbrevboth": abbrevboth,
		"camelcase":  xstrings.ToPascalCase, // sprig kept upper camel case when xstrings changed ToCamelCase
		"cat":        cat,
		"contains":   func(substr, s string) bool { return strings.Contains(s, substr) },
		"hasPrefix":  func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"hasSuffix":  func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
		"indent":     indent,
		"initials":   initials,
		"kebabcase":  xstrings.ToKebabCase,
		"lower":      strings.ToLower,
		"nindent":    func(spaces int, s string) string { return "\n" + indent(spaces, s) },
		"nospace":    nospace,
		"plural":     plural,
		"quote":      quote,
		"repeat":     func(count int, s string) string { return strings.Repeat(s, count) },
		"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"snakecase":  xstrings.ToSnakeCase,
		"squote":     squote,
		"substr":     substr,
		"swapcase":   swapcase,
		"title":      strings.Title, //nolint:staticcheck // sprig's title: first letter of each word, no language rules
		"toString":   strval,
		"trim":       strings.TrimSpace,
		"trimAll":    func(cutset, s string) string { return strings.Trim(s, cutset) },
		"trimall":    func(cutset, s string) string { return strings.Trim(s, cutset) },
		"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"trunc":      trunc,
		"untitle":    untitle,
		"upper":      strings.ToUpper,
		"wrap":       func(width int, s string) string { return wrap(s, width, "", false) },
		"wrapWith":   func(width int, sep, s string) string { return wrap(s, width, sep, true) },
		"join":       func(sep string, list any) string { return strings.Join(strslice(list), sep) },
		"split":      func(sep, s string) map[string]string { return indexed(strings.Split(s, sep)) },
		"splitList":  func(sep, s string) []string { return strings.Split(s, sep) },
		"splitn":     func(sep string, n int, s string) map[string]string { return indexed(strings.SplitN(s, sep, n)) },
		"sortAlpha":  sortAlpha,
		"toStrings":  strslice,

		// numbers
		"add": func(nums ...any) int64 {
			var sum int64
			for _, n := range nums {
				sum += toInt64(n)
			}
			return sum
		},
		"add1":  func(n any) int64 { return toInt64(n) + 1 },
		"add1f": func(n any) float64 { return decimalOp(n, []any{1}, (*big.Rat).Add) },
		"addf":  func(nums ...any) float64 { return decimalOp(float64(0), nums, (*big.Rat).Add) },
		"atoi": func(s string) int {
			n, _ := strconv.Atoi(s)
			return n
		},
		"biggest": maxInt,
		"ceil":    func(n any) float64 { return math.Ceil(toFloat64(n)) },
		"div":     func(a, b any) int64 { return toInt64(a) / toInt64(b) },
		"divf":    func(a any, nums ...any) float64 { return decimalOp(a, nums, divRound) },
		"float64": toFloat64,
		"floor":   func(n any) float64 { return math.Floor(toFloat64(n)) },
		"int":     toInt,
		"int64":   toInt64,
		"max":     maxInt,
		"maxf": func(a any, nums ...any) float64 {
			m := toFloat64(a)
			for _, n := range nums {
				m = math.Max(m, toFloat64(n))
			}
			return m
		},
		"min": func(a any, nums ...any) int64 {
			m := toInt64(a)
			for _, n := range nums {
				m = min(m, toInt64(n))
			}
			return m
		},
		"minf": func(a any, nums ...any) float64 {
			m := toFloat64(a)
			for _, n := range nums {
				m = math.Min(m, toFloat64(n))
			}
			return m
		},
		"mod": func(a, b any) int64 { return toInt64(a) % toInt64(b) },
		"mul": func(a any, nums ...any) int64 {
			p := toInt64(a)
			for _, n := range nums {
				p *= toInt64(n)
			}
			return p
		},
		"mulf":      func(a any, nums ...any) float64 { return decimalOp(a, nums, (*big.Rat).Mul) },
		"round":     round,
		"seq":       seq,
		"sub":       func(a, b any) int64 { return toInt64(a) - toInt64(b) },
		"subf":      func(a any, nums ...any) float64 { return decimalOp(a, nums, (*big.Rat).Sub) },
		"toDecimal": toDecimal,
		"until":     until,
		"untilStep": untilStep,

		// defaults, flow and types
		"all": func(vs ...any) bool {
			for _, v := range vs {
				if empty(v) {
					return false
				}
			}
			return true
		},
		"any": func(vs ...any) bool {
			for _, v := range vs {
				if !empty(v) {
					return true
				}
			}
			return false
		},
		"coalesce": func(vs ...any) any {
			for _, v := range vs {
				if !empty(v) {
					return v
				}
			}
			return nil
		},
		"compact": func(list any) []any { return must(mustCompact(list)) },
		"default": func(def any, given ...any) any {
			if len(given) == 0 || empty(given[0]) {
				return def
			}
			return given[0]
		},
		"empty":       empty,
		"fail":        func(msg string) (string, error) { return "", errors.New(msg) },
		"ternary":     ternary,
		"deepEqual":   reflect.DeepEqual,
		"kindIs":      func(kind string, v any) bool { return kind == kindOf(v) },
		"kindOf":      kindOf,
		"typeIs":      func(typ string, v any) bool { return typ == typeOf(v) },
		"typeIsLike":  func(typ string, v any) bool { t := typeOf(v); return typ == t || "*"+typ == t },
		"typeOf":      typeOf,
		"mustCompact": mustCompact,

		// encodings and hashes
		"adler32sum": func(s string) string { return strconv.FormatUint(uint64(adler32.Checksum([]byte(s))), 10) },
		"b32dec":     func(s string) string { return decoded(base32.StdEncoding.DecodeString(s)) },
		"b32enc":     func(s string) string { return base32.StdEncoding.EncodeToString([]byte(s)) },
		"b64dec":     func(s string) string { return decoded(base64.StdEncoding.DecodeString(s)) },
		"b64enc":     func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"sha1sum":    func(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) },
		"sha256sum":  func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) },
		"sha512sum":  func(s string) string { h := sha512.Sum512([]byte(s)); return hex.EncodeToString(h[:]) },
		"fromJson": func(s string) any {
			v, _ := mustFromJSON(s)
			return v
		},
		"mustFromJson": mustFromJSON,
		"toJson": func(v any) string {
			out, _ := json.Marshal(v)
			return string(out)
		},
		"mustToJson": func(v any) (string, error) {
			out, err := json.Marshal(v)
			return string(out), err
		},
		"toPrettyJson": func(v any) string {
			out, _ := json.MarshalIndent(v, "", "  ")
			return string(out)
		},
		"mustToPrettyJson": func(v any) (string, error) {
			out, err := json.MarshalIndent(v, "", "  ")
			return string(out), err
		},
		"toRawJson":     func(v any) string { return must(mustToRawJSON(v)) },
		"mustToRawJson": mustToRawJSON,

		// paths, as strings: none of them looks at a file
		"base":    path.Base,
		"clean":   path.Clean,
		"dir":     path.Dir,
		"ext":     path.Ext,
		"isAbs":   path.IsAbs,
		"osBase":  filepath.Base,
		"osClean": filepath.Clean,
		"osDir":   filepath.Dir,
		"osExt":   filepath.Ext,
		"osIsAbs": filepath.IsAbs,

		// lists
		"list":        list,
		"tuple":       list,
		"append":      func(l, v any) []any { return must(mustPush(l, v)) },
		"push":        func(l, v any) []any { return must(mustPush(l, v)) },
		"mustAppend":  mustPush,
		"mustPush":    mustPush,
		"prepend":     func(l, v any) []any { return must(mustPrepend(l, v)) },
		"mustPrepend": mustPrepend,
		"chunk":       func(size int, l any) [][]any { return must(mustChunk(size, l)) },
		"mustChunk":   mustChunk,
		"first":       func(l any) any { return must(mustFirst(l)) },
		"mustFirst":   mustFirst,
		"last":        func(l any) any { return must(mustLast(l)) },
		"mustLast":    mustLast,
		"rest":        func(l any) []any { return must(mustRest(l)) },
		"mustRest":    mustRest,
		"initial":     func(l any) []any { return must(mustInitial(l)) },
		"mustInitial": mustInitial,
		"reverse":     func(l any) []any { return must(mustReverse(l)) },
		"mustReverse": mustReverse,
		"uniq":        func(l any) []any { return must(mustUniq(l)) },
		"mustUniq":    mustUniq,
		"without":     func(l any, omit ...any) []any { return must(mustWithout(l, omit...)) },
		"mustWithout": mustWithout,
		"has":         func(needle, l any) bool { return must(mustHas(needle, l)) },
		"mustHas":     mustHas,
		"slice":       func(l any, indices ...any) any { return must(mustSlice(l, indices...)) },
		"mustSlice":   mustSlice,
		"concat":      concat,

		// dicts
		"dict":   dict,
		"get":    get,
		"set":    func(d map[string]any, key string, v any) map[string]any { d[key] = v; return d },
		"unset":  func(d map[string]any, key string) map[string]any { delete(d, key); return d },
		"hasKey": func(d map[string]any, key string) bool { _, ok := d[key]; return ok },
		"pluck":  pluck,
		"keys":   keys,
		"pick":   pick,
		"omit":   omit,
		"values": values,
		"dig":    dig,
		"merge": func(dst map[string]any, srcs ...map[string]any) any {
			if err := mergeAll(dst, srcs, false); err != nil {
				return ""
			}
			return dst
		},
		"mustMerge": func(dst map[string]any, srcs ...map[string]any) (any, error) {
			if err := mergeAll(dst, srcs, false); err != nil {
				return nil, err
			}
			return dst, nil
		},
		"mergeOverwrite": func(dst map[string]any, srcs ...map[string]any) any {
			if err := mergeAll(dst, srcs, true); err != nil {
				return ""
			}
			return dst
		},
		"mustMergeOverwrite": func(dst map[string]any, srcs ...map[string]any) (any, error) {
			if err := mergeAll(dst, srcs, true); err != nil {
				return nil, err
			}
			return dst, nil
		},
		"deepCopy": func(v any) any {
			c, err := copystructure.Copy(v)
			if err != nil {
				panic("deepCopy error: " + err.Error())
			}
			return c
		},
		"mustDeepCopy": copystructure.Copy,

		// regular expressions (RE2: linear time). The non-must forms panic on a bad expression,
		// which text/template reports as the call's error.
		"regexFind":                  func(re, s string) string { return regexp.MustCompile(re).FindString(s) },
		"regexFindAll":               func(re, s string, n int) []string { return regexp.MustCompile(re).FindAllString(s, n) },
		"regexMatch":                 func(re, s string) bool { ok, _ := regexp.MatchString(re, s); return ok },
		"regexQuoteMeta":             regexp.QuoteMeta,
		"regexReplaceAll":            func(re, s, repl string) string { return regexp.MustCompile(re).ReplaceAllString(s, repl) },
		"regexReplaceAllLiteral":     func(re, s, repl string) string { return regexp.MustCompile(re).ReplaceAllLiteralString(s, repl) },
		"regexSplit":                 func(re, s string, n int) []string { return regexp.MustCompile(re).Split(s, n) },
		"mustRegexFind":              mustRegexFind,
		"mustRegexFindAll":           mustRegexFindAll,
		"mustRegexMatch":             regexp.MatchString,
		"mustRegexReplaceAll":        mustRegexReplaceAll,
		"mustRegexReplaceAllLiteral": mustRegexReplaceAllLiteral,
		"mustRegexSplit":             mustRegexSplit,

		// URLs and durations
		"urlParse":      urlParse,
		"urlJoin":       urlJoin,
		"duration":      duration,
		"durationRound": durationRound,
	}
}

// must is how the non-must forms fail: a panic, which text/template turns into the call's
// error, as sprig's do.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// strval is sprig's toString: a string, bytes, an error's or Stringer's text, else %v.
func strval(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case error:
		return v.Error()
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprintf("%v", v)
}

// strslice is sprig's toStrings: a list's non-nil elements as strings, a single value as a
// list of one, nil as an empty list.
func strslice(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, s := range v {
			if s != nil {
				out = append(out, strval(s))
			}
		}
		return out
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Array || rv.Kind() == reflect.Slice {
		out := make([]string, 0, rv.Len())
		for i := range rv.Len() {
			if e := rv.Index(i).Interface(); e != nil {
				out = append(out, strval(e))
			}
		}
		return out
	}
	if v == nil {
		return []string{}
	}
	return []string{strval(v)}
}

// indexed is split's result: the parts keyed "_0", "_1", … so that templates can write
// {{"{{"}}(split "/" .Path)._0{{"}}"}}.
func indexed(parts []string) map[string]string {
	m := make(map[string]string, len(parts))
	for i, p := range parts {
		m["_"+strconv.Itoa(i)] = p
	}
	return m
}

func cat(vs ...any) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%v", v))
		}
	}
	return strings.TrimSpace(strings.Join(parts, " "))
}

func indent(spaces int, s string) string {
	pad := strings.Repeat(" ", spaces)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

func plural(one, many string, count int) string {
	if count == 1 {
		return one
	}
	return many
}

// quote puts each non-nil argument in Go's double quotes (strconv.Quote of its toString),
// separated by spaces.
func quote(vs ...any) string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if v != nil {
			out = append(out, strconv.Quote(strval(v)))
		}
	}
	return strings.Join(out, " ")
}

// squote puts each non-nil argument in single quotes, with no escaping at all.
func squote(vs ...any) string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if v != nil {
			out = append(out, fmt.Sprintf("'%v'", v))
		}
	}
	return strings.Join(out, " ")
}

// substr is s[start:end] in bytes: a negative start means from the beginning, a negative or
// too large end means to the end. Other out-of-range indices panic, as sprig's do.
func substr(start, end int, s string) string {
	if start < 0 {
		return s[:end]
	}
	if end < 0 || end > len(s) {
		return s[start:]
	}
	return s[start:end]
}

// trunc keeps the first c bytes of s, or with a negative c the last -c.
func trunc(c int, s string) string {
	if c < 0 && len(s)+c > 0 {
		return s[len(s)+c:]
	}
	if c >= 0 && len(s) > c {
		return s[:c]
	}
	return s
}

// abbrev shortens s to width bytes, the last three being "..." (Apache Commons'
// StringUtils.abbreviate, as Masterminds/goutils ports it). A width under 4 leaves s as it is.
func abbrev(width int, s string) string {
	if width < 4 {
		return s
	}
	r, _ := abbreviate(s, 0, width)
	return r
}

// abbrevboth abbreviates both ends: left is where the kept part starts.
func abbrevboth(left, right int, s string) string {
	if right < 4 || left > 0 && right < 7 {
		return s
	}
	r, _ := abbreviate(s, left, right)
	return r
}

// abbreviate is StringUtils.abbreviate(str, offset, maxWidth), on bytes.
func abbreviate(s string, offset, width int) (string, error) {
	if s == "" {
		return "", nil
	}
	if width < 4 {
		return "", errors.New("tmplfunc: abbreviation width under 4")
	}
	if len(s) <= width {
		return s, nil
	}
	offset = min(offset, len(s))
	if len(s)-offset < width-3 {
		offset = len(s) - (width - 3)
	}
	if offset <= 4 {
		return s[:width-3] + "...", nil
	}
	if width < 7 {
		return "", errors.New("tmplfunc: abbreviation width with an offset under 7")
	}
	if offset+width-3 < len(s) {
		r, _ := abbreviate(s[offset:], 0, width-3)
		return "..." + r, nil
	}
	return "..." + s[len(s)-(width-3):], nil
}

// initials is the first byte of each word (words separated by white space). It works on
// bytes, as goutils' Initials does: a word starting with a multi-byte character gives that
// character's first byte as a Latin-1 rune.
func initials(s string) string {
	var b strings.Builder
	gap := true
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		if isSpace(c) {
			gap = true
		} else if gap {
			b.WriteRune(c)
			gap = false
		}
	}
	return b.String()
}

// isSpace is unicode.IsSpace for the runes initials and nospace look at (bytes as runes).
func isSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0:
		return true
	}
	return false
}

// nospace removes white space bytes from s (goutils' DeleteWhiteSpace, byte by byte, so the
// bytes 0x85 and 0xA0 go too, even inside a multi-byte character, and what is left is
// written back as Latin-1 runes).
func nospace(s string) string {
	var b strings.Builder
	kept := 0
	for i := 0; i < len(s); i++ {
		if c := rune(s[i]); !isSpace(c) {
			b.WriteRune(c)
			kept++
		}
	}
	if kept == len(s) {
		return s
	}
	return b.String()
}

// swapcase swaps upper and lower case; a lower-case letter that starts a word becomes title
// case (goutils' SwapCase).
func swapcase(s string) string {
	rs := []rune(s)
	space := true
	for i, r := range rs {
		switch {
		case unicode.IsUpper(r), unicode.IsTitle(r):
			rs[i] = unicode.ToLower(r)
			space = false
		case unicode.IsLower(r):
			if space {
				rs[i] = unicode.ToTitle(r)
			} else {
				rs[i] = unicode.ToUpper(r)
			}
			space = false
		default:
			space = unicode.IsSpace(r)
		}
	}
	return string(rs)
}

// untitle lower-cases the first letter of each word.
func untitle(s string) string {
	rs := []rune(s)
	next := true
	for i, r := range rs {
		if unicode.IsSpace(r) {
			next = true
		} else if next {
			rs[i] = unicode.ToLower(r)
			next = false
		}
	}
	return string(rs)
}

// wrap breaks s into lines of at most width bytes at spaces, with sep ("" means "\n") between
// them; a word longer than width is broken only when long is set (Apache Commons'
// WordUtils.wrap, as goutils ports it).
func wrap(s string, width int, sep string, long bool) string {
	if s == "" {
		return ""
	}
	if sep == "" {
		sep = "\n"
	}
	width = max(width, 1)
	var b strings.Builder
	offset := 0
	for len(s)-offset > width {
		if s[offset] == ' ' {
			offset++
			continue
		}
		at := strings.LastIndex(s[offset:offset+width+1], " ") + offset
		switch {
		case at >= offset:
			b.WriteString(s[offset:at])
			b.WriteString(sep)
			offset = at + 1
		case long:
			b.WriteString(s[offset : offset+width])
			b.WriteString(sep)
			offset += width
		default:
			end := offset + width
			i := strings.IndexByte(s[end:], ' ')
			if i < 0 {
				b.WriteString(s[offset:])
				offset = len(s)
			} else {
				b.WriteString(s[offset : end+i])
				b.WriteString(sep)
				offset = end + i + 1
			}
		}
	}
	b.WriteString(s[offset:])
	return b.String()
}

func sortAlpha(list any) []string {
	switch reflect.Indirect(reflect.ValueOf(list)).Kind() {
	case reflect.Slice, reflect.Array:
		s := strslice(list)
		sort.Strings(s)
		return s
	}
	return []string{strval(list)}
}

func decoded(b []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// The conversions to numbers are spf13/cast's, as sprig uses them: exact types only (a named
// integer type converts to 0), pointers followed, strings parsed with a base prefix, bools
// as 0 and 1, anything else 0.

func indirect(v any) any {
	if v == nil || reflect.TypeOf(v).Kind() != reflect.Pointer {
		return v
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	return rv.Interface()
}

func toInt64(v any) int64 {
	switch n := indirect(v).(type) {
	case int:
		return int64(n)
	case time.Weekday:
		return int64(n)
	case time.Month:
		return int64(n)
	case int64:
		return n
	case int32:
		return int64(n)
	case int16:
		return int64(n)
	case int8:
		return int64(n)
	case uint:
		return int64(n)
	case uint64:
		return int64(n)
	case uint32:
		return int64(n)
	case uint16:
		return int64(n)
	case uint8:
		return int64(n)
	case float64:
		return int64(n)
	case float32:
		return int64(n)
	case string:
		i, err := strconv.ParseInt(trimZeroDecimal(n), 0, 0)
		if err != nil {
			return 0 // ParseInt gives the nearest limit for a number out of range
		}
		return i
	case json.Number:
		return toInt64(string(n))
	case bool:
		if n {
			return 1
		}
	}
	return 0
}

// toInt is toInt64 truncated to int.
func toInt(v any) int {
	return int(toInt64(v))
}

func toFloat64(v any) float64 {
	switch n := indirect(v).(type) {
	case int:
		return float64(n)
	case time.Weekday:
		return float64(n)
	case time.Month:
		return float64(n)
	case float64:
		return n
	case float32:
		return float64(n)
	case int64:
		return float64(n)
	case int32:
		return float64(n)
	case int16:
		return float64(n)
	case int8:
		return float64(n)
	case uint:
		return float64(n)
	case uint64:
		return float64(n)
	case uint32:
		return float64(n)
	case uint16:
		return float64(n)
	case uint8:
		return float64(n)
	case string:
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return 0
		}
		return f
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := n.Float64()
		if err != nil {
			return 0
		}
		return f
	case interface{ Float64() float64 }:
		return n.Float64()
	case bool:
		if n {
			return 1
		}
	}
	return 0
}

// trimZeroDecimal drops a fraction of only zeros ("12.00" → "12"), as cast does before
// parsing an integer.
func trimZeroDecimal(s string) string {
	zero := false
	for i := len(s); i > 0; i-- {
		switch s[i-1] {
		case '.':
			if zero {
				return s[:i-1]
			}
		case '0':
			zero = true
		default:
			return s
		}
	}
	return s
}

func maxInt(a any, nums ...any) int64 {
	m := toInt64(a)
	for _, n := range nums {
		m = max(m, toInt64(n))
	}
	return m
}

// round rounds a to p decimal places, up from roundOn (default .5) of the last place.
func round(a any, p int, roundOn ...float64) float64 {
	on := .5
	if len(roundOn) > 0 {
		on = roundOn[0]
	}
	pow := math.Pow(10, float64(p))
	digit := pow * toFloat64(a)
	if _, frac := math.Modf(digit); frac >= on {
		return math.Ceil(digit) / pow
	}
	return math.Floor(digit) / pow
}

// toDecimal reads its argument's text as an octal number ("0755" → 493); 0 if it is not one.
func toDecimal(v any) int64 {
	n, err := strconv.ParseInt(fmt.Sprint(v), 8, 64)
	if err != nil {
		return 0
	}
	return n
}

func until(count int) []int {
	step := 1
	if count < 0 {
		step = -1
	}
	return untilStep(0, count, step)
}

func untilStep(start, stop, step int) []int {
	v := []int{}
	if stop < start {
		if step >= 0 {
			return v
		}
		for i := start; i > stop; i += step {
			v = append(v, i)
		}
		return v
	}
	if step <= 0 {
		return v
	}
	for i := start; i < stop; i += step {
		v = append(v, i)
	}
	return v
}

// seq is the shell's seq: seq END, seq START END, seq START STEP END, as a string of numbers
// separated by spaces.
func seq(params ...int) string {
	var nums []int
	switch len(params) {
	case 1:
		start, end, inc := 1, params[0], 1
		if end < start {
			inc = -1
		}
		nums = untilStep(start, end+inc, inc)
	case 2:
		start, end, step := params[0], params[1], 1
		if end < start {
			step = -1
		}
		nums = untilStep(start, end+step, step)
	case 3:
		start, step, end, inc := params[0], params[1], params[2], 1
		if end < start {
			inc = -1
			if step > 0 {
				return ""
			}
		}
		nums = untilStep(start, end+inc, step)
	default:
		return ""
	}
	s := make([]string, len(nums))
	for i, n := range nums {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

func empty(v any) bool {
	g := reflect.ValueOf(v)
	if !g.IsValid() {
		return true
	}
	switch g.Kind() {
	case reflect.Array, reflect.Slice, reflect.Map, reflect.String:
		return g.Len() == 0
	case reflect.Bool:
		return !g.Bool()
	case reflect.Complex64, reflect.Complex128:
		return g.Complex() == 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return g.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return g.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return g.Float() == 0
	case reflect.Struct:
		return false
	}
	return g.IsNil()
}

func ternary(vt, vf any, cond bool) any {
	if cond {
		return vt
	}
	return vf
}

func typeOf(v any) string { return fmt.Sprintf("%T", v) }

func kindOf(v any) string { return reflect.ValueOf(v).Kind().String() }

func mustFromJSON(s string) (any, error) {
	var v any
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}

// mustToRawJSON is JSON without HTML escaping (<, >, & stay as they are).
func mustToRawJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func list(vs ...any) []any { return vs }

// elems returns a list's elements, or for anything else an error naming what the function
// could not do with its kind ("Cannot push on type string", sprig's wording). A nil list
// panics, as sprig's functions do.
func elems(l any, what string) ([]any, error) {
	k := reflect.TypeOf(l).Kind()
	if k != reflect.Slice && k != reflect.Array {
		return nil, fmt.Errorf("Cannot %s type %s", what, k) //nolint:staticcheck // sprig's message
	}
	rv := reflect.ValueOf(l)
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, nil
}

func mustPush(l, v any) ([]any, error) {
	e, err := elems(l, "push on")
	if err != nil {
		return nil, err
	}
	return append(e, v), nil
}

func mustPrepend(l, v any) ([]any, error) {
	e, err := elems(l, "prepend on")
	if err != nil {
		return nil, err
	}
	return append([]any{v}, e...), nil
}

// mustChunk splits a list into lists of size elements, the last one shorter.
func mustChunk(size int, l any) ([][]any, error) {
	e, err := elems(l, "chunk")
	if err != nil {
		return nil, err
	}
	n := int(math.Floor(float64(len(e)-1)/float64(size)) + 1)
	out := make([][]any, n)
	for i := range out {
		c := size
		if i == n-1 {
			if c = int(math.Floor(math.Mod(float64(len(e)), float64(size)))); c == 0 {
				c = size
			}
		}
		out[i] = make([]any, c)
		for j := range c {
			out[i][j] = e[i*size+j]
		}
	}
	return out, nil
}

func mustFirst(l any) (any, error) {
	e, err := elems(l, "find first on")
	if err != nil || len(e) == 0 {
		return nil, err
	}
	return e[0], nil
}

func mustLast(l any) (any, error) {
	e, err := elems(l, "find last on")
	if err != nil || len(e) == 0 {
		return nil, err
	}
	return e[len(e)-1], nil
}

func mustRest(l any) ([]any, error) {
	e, err := elems(l, "find rest on")
	if err != nil || len(e) == 0 {
		return nil, err
	}
	return e[1:], nil
}

func mustInitial(l any) ([]any, error) {
	e, err := elems(l, "find initial on")
	if err != nil || len(e) == 0 {
		return nil, err
	}
	return e[:len(e)-1], nil
}

func mustReverse(l any) ([]any, error) {
	e, err := elems(l, "find reverse on")
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(e)-1; i < j; i, j = i+1, j-1 {
		e[i], e[j] = e[j], e[i]
	}
	return e, nil
}

func mustCompact(l any) ([]any, error) {
	e, err := elems(l, "compact on")
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, v := range e {
		if !empty(v) {
			out = append(out, v)
		}
	}
	return out, nil
}

func inList(list []any, v any) bool {
	for _, h := range list {
		if reflect.DeepEqual(v, h) {
			return true
		}
	}
	return false
}

func mustUniq(l any) ([]any, error) {
	e, err := elems(l, "find uniq on")
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, v := range e {
		if !inList(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

func mustWithout(l any, omit ...any) ([]any, error) {
	e, err := elems(l, "find without on")
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, v := range e {
		if !inList(omit, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

func mustHas(needle, l any) (bool, error) {
	if l == nil {
		return false, nil
	}
	e, err := elems(l, "find has on")
	if err != nil {
		return false, err
	}
	return inList(e, needle), nil
}

// mustSlice is l[start:end] of the list itself (its own type, not a []any); an empty list
// gives nil.
func mustSlice(l any, indices ...any) (any, error) {
	k := reflect.TypeOf(l).Kind()
	if k != reflect.Slice && k != reflect.Array {
		return nil, fmt.Errorf("list should be type of slice or array but %s", k)
	}
	rv := reflect.ValueOf(l)
	if rv.Len() == 0 {
		return nil, nil
	}
	start, end := 0, rv.Len()
	if len(indices) > 0 {
		start = toInt(indices[0])
	}
	if len(indices) > 1 {
		end = toInt(indices[1])
	}
	return rv.Slice(start, end).Interface(), nil
}

func concat(lists ...any) any {
	var out []any
	for _, l := range lists {
		e, err := elems(l, "concat")
		if err != nil {
			panic(fmt.Sprintf("Cannot concat type %s as list", reflect.TypeOf(l).Kind()))
		}
		out = append(out, e...)
	}
	return out
}

// dict makes a dict of key, value pairs; keys go through toString, a last key without a
// value gets "".
func dict(kv ...any) map[string]any {
	d := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		k := strval(kv[i])
		if i+1 >= len(kv) {
			d[k] = ""
			continue
		}
		d[k] = kv[i+1]
	}
	return d
}

func get(d map[string]any, key string) any {
	if v, ok := d[key]; ok {
		return v
	}
	return ""
}

func pluck(key string, ds ...map[string]any) []any {
	out := []any{}
	for _, d := range ds {
		if v, ok := d[key]; ok {
			out = append(out, v)
		}
	}
	return out
}

// keys lists the keys of every dict given, in map order (sortAlpha sorts them).
func keys(ds ...map[string]any) []string {
	out := []string{}
	for _, d := range ds {
		for k := range d {
			out = append(out, k)
		}
	}
	return out
}

func pick(d map[string]any, ks ...string) map[string]any {
	out := map[string]any{}
	for _, k := range ks {
		if v, ok := d[k]; ok {
			out[k] = v
		}
	}
	return out
}

func omit(d map[string]any, ks ...string) map[string]any {
	drop := make(map[string]bool, len(ks))
	for _, k := range ks {
		drop[k] = true
	}
	out := map[string]any{}
	for k, v := range d {
		if !drop[k] {
			out[k] = v
		}
	}
	return out
}

func values(d map[string]any) []any {
	out := []any{}
	for _, v := range d {
		out = append(out, v)
	}
	return out
}

// dig follows keys into nested dicts: dig "a" "b" DEFAULT DICT is DICT.a.b, or DEFAULT when a
// key is missing. Fewer than three arguments, a key that is not a string or a step that is
// not a dict panics, as sprig's does.
func dig(ps ...any) (any, error) {
	if len(ps) < 3 {
		panic("dig needs at least three arguments")
	}
	d := ps[len(ps)-1].(map[string]any)
	def := ps[len(ps)-2]
	ks := make([]string, len(ps)-2)
	for i := range ks {
		ks[i] = ps[i].(string)
	}
	for i, k := range ks {
		v, ok := d[k]
		if !ok {
			return def, nil
		}
		if i == len(ks)-1 {
			return v, nil
		}
		d = v.(map[string]any)
	}
	return def, nil
}

// mergeAll merges each of srcs into dst in turn, deeply, as mergo does for sprig's merge
// (keep what dst has) and mergeOverwrite (take what src has).
func mergeAll(dst map[string]any, srcs []map[string]any, overwrite bool) error {
	for _, src := range srcs {
		var err error
		if overwrite {
			err = mergo.MergeWithOverwrite(&dst, src)
		} else {
			err = mergo.Merge(&dst, src)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func mustRegexFind(re, s string) (string, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return "", err
	}
	return r.FindString(s), nil
}

func mustRegexFindAll(re, s string, n int) ([]string, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return []string{}, err
	}
	return r.FindAllString(s, n), nil
}

func mustRegexReplaceAll(re, s, repl string) (string, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return "", err
	}
	return r.ReplaceAllString(s, repl), nil
}

func mustRegexReplaceAllLiteral(re, s, repl string) (string, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return "", err
	}
	return r.ReplaceAllLiteralString(s, repl), nil
}

func mustRegexSplit(re, s string, n int) ([]string, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return []string{}, err
	}
	return r.Split(s, n), nil
}

// urlParse returns a URL's parts as a dict: scheme, host, hostname, path, query, opaque,
// fragment, userinfo. A URL that does not parse panics.
func urlParse(s string) map[string]any {
	u, err := url.Parse(s)
	if err != nil {
		panic(fmt.Sprintf("unable to parse url: %s", err))
	}
	userinfo := ""
	if u.User != nil {
		userinfo = u.User.String()
	}
	return map[string]any{
		"scheme":   u.Scheme,
		"host":     u.Host,
		"hostname": u.Hostname(),
		"path":     u.Path,
		"query":    u.RawQuery,
		"opaque":   u.Opaque,
		"fragment": u.Fragment,
		"userinfo": userinfo,
	}
}

// urlJoin is urlParse's inverse.
func urlJoin(d map[string]any) string {
	u := url.URL{
		Scheme:   dictString(d, "scheme"),
		Host:     dictString(d, "host"),
		Path:     dictString(d, "path"),
		RawQuery: dictString(d, "query"),
		Opaque:   dictString(d, "opaque"),
		Fragment: dictString(d, "fragment"),
	}
	if userinfo := dictString(d, "userinfo"); userinfo != "" {
		t, err := url.Parse(fmt.Sprintf("proto://%s@host", userinfo))
		if err != nil {
			panic(fmt.Sprintf("unable to parse userinfo in dict: %s", err))
		}
		u.User = t.User
	}
	return u.String()
}

func dictString(d map[string]any, key string) string {
	v, ok := d[key]
	if !ok {
		return ""
	}
	if k := reflect.TypeOf(v).Kind(); k != reflect.String {
		panic(fmt.Sprintf("unable to parse %s key, must be of type string, but %s found", key, k))
	}
	return reflect.ValueOf(v).String()
}

// duration formats a number of seconds (an int64, or a string of digits) as a
// time.Duration ("1h1m0s"); anything else is 0s.
func duration(sec any) string {
	var n int64
	switch v := sec.(type) {
	case string:
		n, _ = strconv.ParseInt(v, 10, 64)
	case int64:
		n = v
	}
	return (time.Duration(n) * time.Second).String()
}

// durationRound gives a duration (a time.ParseDuration string or int64 nanoseconds) in its
// largest whole unit: "2h", "3d", "1y" (365 days), "2mo" (30 days). A time.Time is the time
// since then, as in sprig; no other function gives a template one, so templates stay
// hermetic.
func durationRound(v any) string {
	var d time.Duration
	switch v := v.(type) {
	case string:
		d, _ = time.ParseDuration(v)
	case int64:
		d = time.Duration(v)
	case time.Time:
		d = time.Since(v)
	}
	u := uint64(d)
	if d < 0 {
		u = -u
	}
	const (
		day   = uint64(24 * time.Hour)
		month = 30 * day
		year  = 365 * day
	)
	for _, unit := range []struct {
		size uint64
		name string
	}{{year, "y"}, {month, "mo"}, {day, "d"}, {uint64(time.Hour), "h"}, {uint64(time.Minute), "m"}, {uint64(time.Second), "s"}} {
		if u > unit.size {
			return strconv.FormatUint(u/unit.size, 10) + unit.name
		}
	}
	return "0s"
}
