package generator

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/appgen/appgen/internal/tmplfunc"
)

// templateFuncs are the functions a project template may call, by sprig's names and with
// sprig's behaviour (package tmplfunc implements them): sprig's hermetic set (same input,
// same output) without anything that reads the environment, the network, the file system or
// the clock (toDate reads the local time zone), draws random numbers, or costs seconds of CPU
// per call (bcrypt, key and certificate generation, derivePassword's scrypt), and without
// semver and semverCompare, which only sprig's semver library provides (its start-up cost in
// every appgen command is why appgen no longer links sprig). It is an allow-list, so a
// function added to tmplfunc stays out until it is reviewed here. A template is data: it may
// compute its output, nothing else.
var templateFuncs = []string{
	// strings
	"abbrev", "abbrevboth", "camelcase", "cat", "contains", "hasPrefix", "hasSuffix",
	"indent", "initials", "kebabcase", "lower", "nindent", "nospace", "plural", "quote",
	"repeat", "replace", "snakecase", "squote", "substr", "swapcase", "title", "toString",
	"trim", "trimAll", "trimPrefix", "trimSuffix", "trimall", "trunc", "untitle", "upper",
	"wrap", "wrapWith", "join", "split", "splitList", "splitn", "sortAlpha", "toStrings",
	// numbers
	"add", "add1", "add1f", "addf", "atoi", "biggest", "ceil", "div", "divf", "float64",
	"floor", "int", "int64", "max", "maxf", "min", "minf", "mod", "mul", "mulf", "round",
	"seq", "sub", "subf", "toDecimal", "until", "untilStep",
	// defaults, flow and types
	"all", "any", "coalesce", "compact", "default", "empty", "fail", "ternary", "deepEqual",
	"kindIs", "kindOf", "typeIs", "typeIsLike", "typeOf", "mustCompact",
	// encodings and hashes
	"adler32sum", "b32dec", "b32enc", "b64dec", "b64enc", "sha1sum", "sha256sum", "sha512sum",
	"fromJson", "mustFromJson", "toJson", "mustToJson", "toPrettyJson", "mustToPrettyJson",
	"toRawJson", "mustToRawJson",
	// paths, as strings: none of them looks at a file
	"base", "clean", "dir", "ext", "isAbs", "osBase", "osClean", "osDir", "osExt", "osIsAbs",
	// lists and dicts
	"append", "chunk", "concat", "deepCopy", "dict", "dig", "first", "get", "has", "hasKey",
	"initial", "keys", "last", "list", "merge", "mergeOverwrite", "mustAppend", "mustChunk",
	"mustDeepCopy", "mustFirst", "mustHas", "mustInitial", "mustLast", "mustMerge",
	"mustMergeOverwrite", "mustPrepend", "mustPush", "mustRest", "mustReverse", "mustSlice",
	"mustUniq", "mustWithout", "omit", "pick", "pluck", "prepend", "push", "rest", "reverse",
	"set", "slice", "tuple", "uniq", "unset", "values", "without",
	// regular expressions (RE2: linear time)
	"regexFind", "regexFindAll", "regexMatch", "regexQuoteMeta", "regexReplaceAll",
	"regexReplaceAllLiteral", "regexSplit", "mustRegexFind", "mustRegexFindAll",
	"mustRegexMatch", "mustRegexReplaceAll", "mustRegexReplaceAllLiteral", "mustRegexSplit",
	// URLs, durations
	"urlJoin", "urlParse", "duration", "durationRound",
}

// Builtins of text/template that can make a string larger than their arguments: a width
// in printf ("%1000000d") costs a megabyte per verb, and js escapes a byte in up to six.
// They are replaced by the same functions, bounded as every other function is.
var builtinFormatters = map[string]any{
	"print":    fmt.Sprint,
	"printf":   fmt.Sprintf,
	"println":  fmt.Sprintln,
	"html":     template.HTMLEscaper,
	"js":       template.JSEscaper,
	"urlquery": template.URLQueryEscaper,
}

// Names of the functions the renderer inserts into templates; a leading underscore keeps
// them out of any sprig-style name a template author would choose.
const (
	tickFunc  = "_appgen_tick"
	enterFunc = "_appgen_enter"
	leaveFunc = "_appgen_leave"
)

// budget is what one rendering of a template may spend. It is shared by every file of the
// template and by every function call, loop iteration and template call in them.
type budget struct {
	ctx      context.Context
	lim      RenderLimits
	total    int64 // bytes rendered so far, all files
	depth    int   // current {{template}} nesting
	exceeded error // the first limit reached, so the error keeps its type through text/template
}

func (b *budget) fail(err error) error {
	if b.exceeded == nil {
		b.exceeded = err
	}
	return err
}

// tick is called before every function call, loop iteration and template call: it is how
// a template that runs too long is stopped, since text/template itself cannot be cancelled.
func (b *budget) tick() error {
	if err := b.ctx.Err(); err != nil {
		if err == context.DeadlineExceeded {
			return b.fail(fmt.Errorf("%w: rendering took longer than %v", ErrRenderLimit, b.lim.Timeout))
		}
		return b.fail(err)
	}
	return nil
}

// funcMap returns the template functions, each wrapped so that it ticks the budget, refuses
// arguments and results beyond the limits, and refuses up front the calls whose result would
// be far larger than their arguments (repeat, indent, replace, join, until, seq, printf, …).
func (b *budget) funcMap() template.FuncMap {
	all := tmplfunc.Map()
	m := make(template.FuncMap, len(templateFuncs)+len(builtinFormatters)+3)
	for _, name := range templateFuncs {
		m[name] = b.wrap(name, all[name]) // a test checks that tmplfunc has every name
	}
	for name, fn := range builtinFormatters {
		m[name] = b.wrap(name, fn)
	}
	m[tickFunc] = func() (string, error) { return "", b.tick() }
	m[enterFunc] = func() (string, error) {
		if err := b.tick(); err != nil {
			return "", err
		}
		b.depth++
		if b.depth > b.lim.MaxDepth {
			return "", b.fail(fmt.Errorf("%w: templates call templates more than %d deep", ErrRenderLimit, b.lim.MaxDepth))
		}
		return "", nil
	}
	m[leaveFunc] = func() (string, error) { b.depth--; return "", nil }
	return m
}

var errorType = reflect.TypeFor[error]()

// wrap returns fn with the same parameters and (result, error) results, bounded by b.
func (b *budget) wrap(name string, fn any) any {
	fv := reflect.ValueOf(fn)
	ft := fv.Type()
	ins := make([]reflect.Type, ft.NumIn())
	for i := range ins {
		ins[i] = ft.In(i)
	}
	outs := []reflect.Type{ft.Out(0), errorType}
	wt := reflect.FuncOf(ins, outs, ft.IsVariadic())
	fail := func(err error) []reflect.Value {
		return []reflect.Value{reflect.Zero(outs[0]), reflect.ValueOf(&err).Elem()}
	}
	return reflect.MakeFunc(wt, func(args []reflect.Value) []reflect.Value {
		if err := b.tick(); err != nil {
			return fail(err)
		}
		flat := args
		if ft.IsVariadic() {
			last := args[len(args)-1]
			flat = append(args[:len(args)-1:len(args)-1], make([]reflect.Value, last.Len())...)
			for i := range last.Len() {
				flat[len(args)-1+i] = last.Index(i)
			}
		}
		if err := b.precheck(name, flat); err != nil {
			return fail(b.fail(fmt.Errorf("%w: %s: %v", ErrRenderLimit, name, err)))
		}
		var res []reflect.Value
		if ft.IsVariadic() {
			res = fv.CallSlice(args)
		} else {
			res = fv.Call(args)
		}
		if len(res) == 2 && !res[1].IsNil() {
			return res
		}
		if _, err := sizeOf(res[0], b.lim.MaxFileBytes); err != nil {
			return fail(b.fail(fmt.Errorf("%w: %s returned %v", ErrRenderLimit, name, err)))
		}
		return []reflect.Value{res[0], reflect.Zero(errorType)}
	}).Interface()
}

// precheck refuses a call before it runs when its result would be larger than the file
// limit, since the function would allocate it all before its size could be checked.
func (b *budget) precheck(name string, args []reflect.Value) error {
	limit := b.lim.MaxFileBytes
	// Every function's result is at most a small multiple of its arguments, except those
	// handled below: bounding the arguments bounds what any call allocates.
	var in int64
	for _, a := range args {
		n, err := sizeOf(a, limit)
		if err != nil {
			return err
		}
		in += n
	}
	if in > 4*limit {
		return fmt.Errorf("its arguments are %d bytes; the limit is %d", in, 4*limit)
	}
	want := int64(0) // the result's size, where it can be far beyond the arguments'
	switch name {
	case "repeat": // repeat COUNT STRING
		want = mul(intArg(args, 0), int64(len(stringArg(args, 1))))
	case "indent", "nindent": // indent SPACES STRING
		s := stringArg(args, 1)
		want = int64(len(s)) + mul(intArg(args, 0), int64(strings.Count(s, "\n")+1))
	case "replace": // replace OLD NEW STRING
		old, repl, s := stringArg(args, 0), stringArg(args, 1), stringArg(args, 2)
		n := int64(utf8.RuneCountInString(s) + 1)
		if old != "" {
			n = int64(strings.Count(s, old))
		}
		want = int64(len(s)) + mul(n, int64(len(repl)))
	case "wrapWith": // wrapWith WIDTH SEP STRING
		width, sep, s := intArg(args, 0), stringArg(args, 1), stringArg(args, 2)
		want = int64(len(s)) + mul(int64(len(s))/max64(width, 1)+1, int64(len(sep)))
	case "join": // join SEP LIST
		want = in + mul(max(listLen(args[1]), 1), int64(len(stringArg(args, 0))))
	case "until": // until COUNT
		want = mul(elemCost, abs64(intArg(args, 0)))
	case "untilStep": // untilStep START STOP STEP
		want = mul(elemCost, dist(intArg(args, 0), intArg(args, 1))/max64(abs64(intArg(args, 2)), 1))
	case "seq": // seq [START [STEP]] END
		want = seqCost(args)
	case "uniq", "mustUniq":
		// Quadratic in the list's length.
		if n := listLen(args[0]); n*n > limit {
			return fmt.Errorf("a list of %d elements; the limit is %d", n, isqrt(limit))
		}
	case "regexReplaceAll", "mustRegexReplaceAll", "regexReplaceAllLiteral", "mustRegexReplaceAllLiteral":
		want = regexReplaceCost(args, strings.HasSuffix(name, "Literal"))
	case "printf":
		want = mul(in, 6) + formatWidths(args)
	case "print", "println", "html", "js", "urlquery":
		want = mul(in, 6) + int64(len(args))
	}
	if want > limit {
		return fmt.Errorf("the result would be about %d bytes; the limit is %d", want, limit)
	}
	return nil
}

// elemCost is what one list or dict element counts for in sizeOf: about what it costs in
// memory, and at least what printing it costs (", " and a type name in %#v).
const elemCost = 16

// maxValueDepth bounds how deeply lists and dicts nest. It also ends the walk of a dict that
// holds itself ({{"{{"}}set $d "me" $d{{"}}"}}), which would otherwise make toJson or printf
// recurse until the process dies.
const maxValueDepth = 100

// sizeOf returns about how many bytes v takes to print: a string's bytes, and for lists and
// dicts their elements' plus elemCost and their indentation in toPrettyJson each. It stops
// with an error past max, so the walk costs at most about max steps.
func sizeOf(v reflect.Value, max int64) (int64, error) {
	var n int64
	var walk func(v reflect.Value, depth int) error
	walk = func(v reflect.Value, depth int) error {
		if depth > maxValueDepth {
			return fmt.Errorf("a value nested more than %d deep, or holding itself", maxValueDepth)
		}
		if n > max {
			return fmt.Errorf("a value over %d bytes", max)
		}
		switch v.Kind() {
		case reflect.Invalid:
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				return walk(v.Elem(), depth)
			}
		case reflect.String:
			n += int64(v.Len())
		case reflect.Slice, reflect.Array:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				n += int64(v.Len())
				break
			}
			for i := range v.Len() {
				n += elemCost + 2*int64(depth)
				if err := walk(v.Index(i), depth+1); err != nil {
					return err
				}
			}
		case reflect.Map:
			iter := v.MapRange()
			for iter.Next() {
				n += elemCost + 2*int64(depth)
				if err := walk(iter.Key(), depth+1); err != nil {
					return err
				}
				if err := walk(iter.Value(), depth+1); err != nil {
					return err
				}
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					n += elemCost
					if err := walk(v.Field(i), depth+1); err != nil {
						return err
					}
				}
			}
		default:
			n += 8
		}
		if n > max {
			return fmt.Errorf("a value over %d bytes", max)
		}
		return nil
	}
	err := walk(v, 0)
	return n, err
}

func arg(args []reflect.Value, i int) reflect.Value {
	if i >= len(args) {
		return reflect.Value{}
	}
	v := args[i]
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

func stringArg(args []reflect.Value, i int) string {
	if v := arg(args, i); v.Kind() == reflect.String {
		return v.String()
	}
	return ""
}

func intArg(args []reflect.Value, i int) int64 {
	switch v := arg(args, i); {
	case v.CanInt():
		return v.Int()
	case v.CanUint():
		return int64(min(v.Uint(), 1<<62))
	case v.CanFloat():
		return int64(max(min(v.Float(), 1<<62), -1<<62))
	}
	return 0
}

func listLen(v reflect.Value) int64 {
	v = arg([]reflect.Value{v}, 0)
	if v.Kind() == reflect.Slice || v.Kind() == reflect.Array {
		return int64(v.Len())
	}
	return 0
}

// seqCost is the size of seq's result, a string of numbers: seq END, seq START END or
// seq START STEP END.
func seqCost(args []reflect.Value) int64 {
	var span, step int64 = 0, 1
	switch len(args) {
	case 1:
		span = abs64(intArg(args, 0))
	case 2:
		span = dist(intArg(args, 0), intArg(args, 1))
	case 3:
		span = dist(intArg(args, 0), intArg(args, 2))
		step = max64(abs64(intArg(args, 1)), 1)
	}
	return mul(21, span/step+1) // up to 20 digits and a space each
}

// regexReplaceCost is the size of regexReplaceAll REGEX STRING REPL: the string plus each
// match's expansion of REPL ($1 can be as long as the string).
func regexReplaceCost(args []reflect.Value, literal bool) int64 {
	re, err := regexp.Compile(stringArg(args, 0))
	if err != nil {
		return 0 // the call itself reports the bad expression
	}
	s, repl := stringArg(args, 1), stringArg(args, 2)
	n := int64(len(s))
	var dst []byte
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		if literal {
			n += int64(len(repl))
			continue
		}
		dst = re.ExpandString(dst[:0], repl, s, m)
		n += int64(len(dst))
	}
	return n
}

// formatWidths is what the widths and precisions in printf's format add to its result
// ("%1000000d"). fmt refuses widths over 1e6, so each one adds at most that.
func formatWidths(args []reflect.Value) int64 {
	format := stringArg(args, 0)
	next := 1 // the argument a '*' takes
	var n int64
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		// Flags, widths and precisions up to the verb.
		for i++; i < len(format); i++ {
			c := format[i]
			if c >= '0' && c <= '9' {
				w := int64(0)
				for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
					w = min(w*10+int64(format[i]-'0'), 1e6)
				}
				n += w
				i--
				continue
			}
			if c == '*' {
				n += min(abs64(intArg(args, next)), 1e6)
				next++
				continue
			}
			if strings.IndexByte("+-# .[]", c) < 0 {
				next++ // the verb takes an argument
				break
			}
		}
	}
	return n
}

func abs64(n int64) int64 {
	if n < 0 {
		if n == math.MinInt64 {
			return math.MaxInt64
		}
		return -n
	}
	return n
}

// dist is |b-a|, saturating instead of overflowing.
func dist(a, b int64) int64 {
	return int64(min(math.Abs(float64(b)-float64(a)), math.MaxInt64/2))
}

func max64(a, b int64) int64 { return max(a, b) }

// mul multiplies sizes, saturating instead of overflowing.
func mul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return max(a, 0) * max(b, 0)
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

func isqrt(n int64) int64 {
	r := int64(0)
	for (r+1)*(r+1) <= n {
		r++
	}
	return r
}
