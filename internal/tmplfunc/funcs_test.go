package tmplfunc

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
)

// TestSignatures pins every function to sprig's of the same name: same parameters and
// results, so a template calls it the same way and text/template converts its arguments the
// same way.
func TestSignatures(t *testing.T) {
	theirs := sprig.HermeticTxtFuncMap()
	for name, fn := range Map() {
		t.Run(name, func(t *testing.T) {
			s, ok := theirs[name]
			if !ok {
				t.Fatalf("%s is not one of sprig's hermetic functions", name)
			}
			if got, want := reflect.TypeOf(fn), reflect.TypeOf(s); got != want {
				t.Errorf("type %v, sprig's is %v", got, want)
			}
		})
	}
}

// data is the dot of the cases below: values a template cannot write as literals.
func data() map[string]any {
	five := 5
	return map[string]any{
		"nil":     nil,
		"ints":    []int{3, 1, 2, 3},
		"strs":    []string{"b", "a", "c"},
		"mixed":   []any{1, "a", nil, "", 0, 2.5, true, []int{}},
		"empty":   []any{},
		"dict":    map[string]any{"a": 1, "b": map[string]any{"c": "deep", "n": nil}, "s": "str"},
		"dict2":   map[string]any{"a": 2, "b": map[string]any{"c": "other", "d": 4}, "x": []any{1}},
		"int64":   int64(3725),
		"neg64":   int64(-90061000000000),
		"uint8":   uint8(200),
		"float32": float32(2.5),
		"ptr":     &five,
		"month":   time.March,
		"bytes":   []byte("bytes"),
		"num":     json.Number("42"),
		"arr":     [3]string{"z", "y", "x"},
		"struct":  struct{ A string }{"a"},
	}
}

// cases are template actions run with both function maps; each must give the same output,
// or fail in both.
var cases = []string{
	// strings
	`{{abbrev 5 "hello world"}}`, `{{abbrev 3 "hello"}}`, `{{abbrev 20 "hello"}}`, `{{abbrev 4 ""}}`,
	`{{abbrevboth 5 10 "1234 5678 9123 4567"}}`, `{{abbrevboth 0 6 "abcdefghij"}}`, `{{abbrevboth 1 6 "abcdefghijklmno"}}`,
	`{{abbrevboth 20 10 "abcdefghijklmnopqrstuvwxyz"}}`, `{{abbrevboth 10 10 "abcdefghijklmnopqrstuvwxyz"}}`, `{{abbrevboth -3 8 "abcdefghijklmnopq"}}`,
	`{{camelcase "http_server"}}`, `{{camelcase "_complex__case_"}}`, `{{camelcase "x"}}`, `{{camelcase "ÀÉ_ü"}}`,
	`{{snakecase "FirstName"}}`, `{{snakecase "HTTPServer2xx"}}`, `{{snakecase "Bld4Floor"}}`, `{{snakecase "a b-c.d"}}`,
	`{{kebabcase "FirstName"}}`, `{{kebabcase "some_HTTP2Thing"}}`,
	`{{cat "a" 1 .nil "b" 2.5}}`, `{{cat}}`, `{{cat .nil}}`,
	`{{contains "ell" "hello"}}`, `{{hasPrefix "he" "hello"}}`, `{{hasSuffix "lo" "hello"}}`,
	`{{indent 4 "a\nb"}}`, `{{nindent 2 "a\nb"}}`, `{{indent 0 ""}}`,
	`{{initials "first try  again"}}`, `{{initials ""}}`, `{{initials "élan vital"}}`,
	`{{lower "HeLLo"}}`, `{{upper "HeLLo"}}`, `{{title "hello wide world"}}`, `{{untitle "Hello World"}}`, `{{untitle "ÉCOLE École"}}`,
	`{{nospace "a b\tc\nd"}}`, `{{nospace "abc"}}`, `{{nospace "à la"}}`, `{{nospace "x\u00a0y"}}`,
	`{{plural "one" "many" 1}}`, `{{plural "one" "many" 2}}`,
	`{{quote "a" 1 .nil "b\"c"}}`, `{{quote .bytes .num}}`, `{{squote "a" 1 .nil}}`,
	`{{repeat 3 "ab"}}`, `{{replace "a" "b" "banana"}}`, `{{replace "" "-" "abc"}}`,
	`{{substr 1 3 "hello"}}`, `{{substr -1 2 "hello"}}`, `{{substr 2 -1 "hello"}}`, `{{substr 2 99 "hello"}}`, `{{substr 4 2 "hello"}}`, `{{substr -1 9 "hello"}}`,
	`{{swapcase "Hello World ǅemal"}}`, `{{swapcase "hello wORLD"}}`,
	`{{toString 1}}`, `{{toString .bytes}}`, `{{toString .nil}}`, `{{toString .month}}`, `{{toString .dict}}`,
	`{{trim "  x  "}}`, `{{trimAll "$" "$$5.00$"}}`, `{{trimall "ab" "abxba"}}`, `{{trimPrefix "a" "aab"}}`, `{{trimSuffix "b" "abb"}}`,
	`{{trunc 3 "hello"}}`, `{{trunc -3 "hello"}}`, `{{trunc -9 "hello"}}`, `{{trunc 9 "hello"}}`,
	`{{wrap 5 "hello world and more"}}`, `{{wrap 3 "abcdefgh ij"}}`, `{{wrap 0 "a b"}}`, `{{wrap 10 "  lead  spaces here ok"}}`,
	`{{wrapWith 5 "\t" "hello world"}}`, `{{wrapWith 3 "|" "abcdefgh ij"}}`, `{{wrapWith 4 "" "abcdefgh"}}`,
	`{{join "," .strs}}`, `{{join "-" .mixed}}`, `{{join "," .ints}}`, `{{join "," "single"}}`, `{{join "," .nil}}`, `{{join "," .arr}}`,
	`{{split "/" "a/b/c"}}`, `{{(split "/" "a/b/c")._1}}`, `{{splitList "," "a,,b"}}`, `{{splitn "/" 2 "a/b/c"}}`,
	`{{sortAlpha .strs}}`, `{{sortAlpha .ints}}`, `{{sortAlpha "x"}}`, `{{sortAlpha .mixed}}`,
	`{{toStrings .ints}}`, `{{toStrings .mixed}}`, `{{toStrings 5}}`, `{{toStrings .nil}}`, `{{toStrings .strs}}`,
	// numbers
	`{{add 1 2 "3" 4.9 .int64 true .nil "x"}}`, `{{add}}`, `{{add1 "0x10"}}`, `{{add1 .ptr}}`, `{{add1 .month}}`, `{{add1 .uint8}}`, `{{add1 "12.00"}}`, `{{add1 "1.5"}}`, `{{add1 .num}}`,
	`{{sub 5 "2"}}`, `{{div 7 2}}`, `{{div 1 0}}`, `{{mod 7 3}}`, `{{mod 1 0}}`, `{{mul 2 3 "4"}}`, `{{mul 2}}`,
	`{{add1f 1.5}}`, `{{addf 0.1 0.2}}`, `{{addf}}`, `{{addf "1e-7" 3}}`, `{{subf 1 0.9}}`, `{{subf 1}}`, `{{mulf 0.1 3}}`, `{{mulf 1.1 1.1 1.1}}`,
	`{{divf 1 3}}`, `{{divf 2 3}}`, `{{divf -2 3}}`, `{{divf 10 4}}`, `{{divf 1 0}}`, `{{divf 1e300 1e-300}}`, `{{divf 1 "x"}}`, `{{addf "NaN"}}`, `{{addf .float32 .uint8}}`,
	`{{atoi "42"}}`, `{{atoi "x"}}`, `{{atoi " 1"}}`,
	`{{biggest 1 5 3}}`, `{{max 1 "9" 3}}`, `{{min 4 "2" 9}}`, `{{maxf 1.5 "2.5" 0}}`, `{{minf 1.5 "-2.5"}}`, `{{maxf "NaN" 1}}`,
	`{{ceil 1.2}}`, `{{floor "1.8"}}`, `{{float64 "1.5"}}`, `{{float64 .num}}`, `{{float64 true}}`, `{{float64 .struct}}`,
	`{{int "0b101"}}`, `{{int 3.9}}`, `{{int64 "077"}}`, `{{int64 "1_000"}}`, `{{int64 "9999999999999999999"}}`, `{{int .float32}}`,
	`{{round 3.14159 2}}`, `{{round 2.5 0}}`, `{{round 2.45 1 0.3}}`, `{{round "-1.5" 0}}`,
	`{{seq 5}}`, `{{seq -3}}`, `{{seq 0}}`, `{{seq 2 6}}`, `{{seq 6 2}}`, `{{seq 0 2 10}}`, `{{seq 10 -3 1}}`, `{{seq 10 3 1}}`, `{{seq}}`, `{{seq 1 2 3 4}}`,
	`{{toDecimal "0777"}}`, `{{toDecimal 777}}`, `{{toDecimal "8"}}`, `{{toDecimal .nil}}`,
	`{{until 5}}`, `{{until -3}}`, `{{untilStep 0 10 3}}`, `{{untilStep 10 0 -4}}`, `{{untilStep 0 10 0}}`, `{{untilStep 10 0 1}}`,
	// defaults, flow and types
	`{{all 1 "a" true}}`, `{{all 1 ""}}`, `{{any 0 "" .nil}}`, `{{any 0 "x"}}`, `{{coalesce 0 "" "x" "y"}}`, `{{coalesce .nil}}`,
	`{{compact .mixed}}`, `{{compact "x"}}`, `{{mustCompact .mixed}}`, `{{mustCompact 1}}`,
	`{{default "d" ""}}`, `{{default "d" "given"}}`, `{{default "d"}}`, `{{default "d" .empty}}`, `{{default "d" .struct}}`, `{{default "d" .ptr}}`,
	`{{empty 0}}`, `{{empty .nil}}`, `{{empty .struct}}`, `{{empty .dict}}`, `{{empty 0.0}}`, `{{empty false}}`,
	`{{fail "boom"}}`, `{{ternary "y" "n" true}}`, `{{ternary "y" "n" false}}`,
	`{{deepEqual .ints .ints}}`, `{{deepEqual 1 "1"}}`,
	`{{kindIs "slice" .ints}}`, `{{kindOf .dict}}`, `{{kindOf .nil}}`, `{{typeIs "int" 1}}`, `{{typeIsLike "int" .ptr}}`, `{{typeOf .ptr}}`, `{{typeOf .nil}}`,
	// encodings and hashes
	`{{adler32sum "hello"}}`, `{{b32enc "hello"}}`, `{{b32dec "NBSWY3DP"}}`, `{{b32dec "!!"}}`, `{{b64enc "hello"}}`, `{{b64dec "aGVsbG8="}}`, `{{b64dec "%"}}`,
	`{{sha1sum "x"}}`, `{{sha256sum "x"}}`, `{{sha512sum "x"}}`,
	`{{fromJson "{\"a\":[1,2,{\"b\":null}]}"}}`, `{{fromJson "bad"}}`, `{{mustFromJson "bad"}}`, `{{mustFromJson "[1,\"x\"]"}}`,
	`{{toJson .dict}}`, `{{toJson "<&>"}}`, `{{mustToJson .dict}}`, `{{toPrettyJson .dict}}`, `{{mustToPrettyJson .ints}}`,
	`{{toRawJson "<&>"}}`, `{{mustToRawJson .dict}}`, `{{toJson .nil}}`,
	// paths
	`{{base "/a/b.txt"}}`, `{{base ""}}`, `{{clean "a//b/../c"}}`, `{{dir "/a/b"}}`, `{{ext "x.tar.gz"}}`, `{{isAbs "/a"}}`,
	`{{osBase "/a/b.txt"}}`, `{{osClean "a//b/../c"}}`, `{{osDir "a/b"}}`, `{{osExt "x.go"}}`, `{{osIsAbs "a"}}`,
	// lists
	`{{list 1 "a" .nil}}`, `{{tuple}}`, `{{append .ints 4}}`, `{{push .strs "d"}}`, `{{append "x" 1}}`, `{{mustAppend "x" 1}}`, `{{mustPush .empty 1}}`,
	`{{prepend .ints 0}}`, `{{mustPrepend 1 1}}`, `{{chunk 2 .mixed}}`, `{{chunk 3 .ints}}`, `{{chunk 2 .empty}}`, `{{mustChunk 2 "x"}}`, `{{chunk 0 .ints}}`,
	`{{first .ints}}`, `{{first .empty}}`, `{{mustFirst "x"}}`, `{{last .strs}}`, `{{mustLast .empty}}`, `{{first .nil}}`,
	`{{rest .ints}}`, `{{rest .empty}}`, `{{mustRest 1}}`, `{{initial .ints}}`, `{{mustInitial .arr}}`,
	`{{reverse .ints}}`, `{{reverse .arr}}`, `{{mustReverse "x"}}`, `{{uniq .ints}}`, `{{uniq .mixed}}`, `{{mustUniq 1}}`,
	`{{without .ints 3}}`, `{{without .mixed 1 "a"}}`, `{{mustWithout "x" 1}}`,
	`{{has 2 .ints}}`, `{{has "q" .strs}}`, `{{has 1 .nil}}`, `{{mustHas 1 "x"}}`,
	`{{slice .ints 1 3}}`, `{{slice .ints 2}}`, `{{slice .ints}}`, `{{slice .empty 1}}`, `{{slice .ints 3 1}}`, `{{mustSlice "x" 1}}`, `{{slice .strs "1"}}`,
	`{{concat .ints .strs}}`, `{{concat}}`, `{{concat .ints "x"}}`,
	// dicts
	`{{dict "a" 1 "b"}}`, `{{dict 1 2}}`, `{{dict}}`, `{{get .dict "a"}}`, `{{get .dict "zz"}}`,
	`{{$d := dict "a" 1}}{{set $d "b" 2}}`, `{{$d := dict "a" 1}}{{unset $d "a"}}`, `{{hasKey .dict "s"}}`,
	`{{pluck "a" .dict .dict2 (dict)}}`, `{{keys .dict .dict2 | sortAlpha}}`, `{{keys}}`, `{{pick .dict "a" "zz"}}`, `{{omit .dict "a"}}`, `{{values (dict "k" 1)}}`,
	`{{dig "b" "c" "def" .dict}}`, `{{dig "b" "zz" "def" .dict}}`, `{{dig "a" "def" .dict}}`, `{{dig "a" "b" "def" .dict}}`, `{{dig "a" .dict}}`, `{{dig 1 "d" .dict}}`,
	`{{merge (dict "a" 1 "b" (dict "c" "x")) .dict2}}`, `{{merge (dict "a" 0 "e" "") .dict .dict2}}`, `{{mustMerge (dict) .dict}}`,
	`{{mergeOverwrite (dict "a" 1 "b" (dict "c" "x" "k" 1)) .dict2}}`, `{{mustMergeOverwrite (dict "x" "s") .dict2}}`, `{{mergeOverwrite (dict "a" (dict "q" 1)) (dict "a" 5)}}`,
	`{{deepCopy .dict}}`, `{{mustDeepCopy .ints}}`, `{{deepCopy .nil}}`, `{{deepCopy .struct}}`,
	// regular expressions
	`{{regexFind "[a-z]+" "12abc34"}}`, `{{regexFind "(" "x"}}`, `{{regexFindAll "[0-9]" "a1b2c3" 2}}`, `{{regexFindAll "[0-9]" "a1b2c3" -1}}`,
	`{{regexMatch "^a" "abc"}}`, `{{regexMatch "(" "abc"}}`, `{{regexQuoteMeta "a.b*c"}}`,
	`{{regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W"}}`, `{{regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}"}}`, `{{regexSplit "z+" "pizza" -1}}`, `{{regexSplit "(" "x" 1}}`,
	`{{mustRegexFind "b+" "abbc"}}`, `{{mustRegexFind "(" "x"}}`, `{{mustRegexFindAll "b" "abcb" -1}}`, `{{mustRegexFindAll "(" "x" 1}}`, `{{mustRegexMatch "(" "x"}}`, `{{mustRegexMatch "b" "abc"}}`,
	`{{mustRegexReplaceAll "b" "abc" "$0$0"}}`, `{{mustRegexReplaceAll "(" "x" ""}}`, `{{mustRegexReplaceAllLiteral "b" "abc" "$0"}}`, `{{mustRegexReplaceAllLiteral "(" "x" ""}}`,
	`{{mustRegexSplit "," "a,b,c" 2}}`, `{{mustRegexSplit "(" "x" 1}}`,
	// URLs and durations
	`{{urlParse "https://u:p@example.com:8080/a/b?q=1#frag"}}`, `{{urlParse "mailto:x@y"}}`, `{{urlParse ":bad"}}`,
	`{{urlJoin (dict "scheme" "https" "host" "example.com" "path" "/a b" "query" "x=1" "fragment" "f" "userinfo" "u:p")}}`, `{{urlJoin (dict "host" 1)}}`, `{{urlJoin (dict)}}`,
	`{{duration 95}}`, `{{duration "3725"}}`, `{{duration .int64}}`, `{{duration "x"}}`,
	`{{durationRound "2h30m"}}`, `{{durationRound .neg64}}`, `{{durationRound "-3s"}}`, `{{durationRound 5}}`, `{{durationRound "1s"}}`, `{{durationRound "800h"}}`, `{{durationRound "9000h"}}`, `{{durationRound "61s"}}`,
}

// TestSameAsSprig runs every case with sprig's functions and with Map's: same output, or a
// failure in both.
func TestSameAsSprig(t *testing.T) {
	theirs := sprig.HermeticTxtFuncMap()
	ours := Map()
	used := map[string]bool{}
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			want, wantErr := execute(c, theirs)
			got, gotErr := execute(c, ours)
			if (wantErr != nil) != (gotErr != nil) || got != want {
				t.Errorf("got %q (error %v)\nsprig: %q (error %v)", got, gotErr, want, wantErr)
			}
		})
		for name := range ours {
			if strings.Contains(c, "{{"+name+" ") || strings.Contains(c, "{{"+name+"}}") || strings.Contains(c, "| "+name+"}}") || strings.Contains(c, "("+name+" ") || strings.Contains(c, "("+name+")") {
				used[name] = true
			}
		}
	}
	for name := range ours {
		if !used[name] {
			t.Errorf("no case calls %s", name)
		}
	}
}

func execute(text string, funcs template.FuncMap) (string, error) {
	tmpl, err := template.New("case").Funcs(funcs).Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = tmpl.Execute(&b, data())
	return b.String(), err
}
