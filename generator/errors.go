package generator

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// TemplateError is a template that failed to parse, execute or format, reduced to one
// readable line naming the template file and, when known, the line.
type TemplateError struct {
	File string // the template file's path inside the template
	Line int    // 1-based; 0 when unknown
	Err  error  // what went wrong, without text/template's repetition of the file name
}

func (e *TemplateError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("generator: template %s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("generator: template %s: %v", e.File, e.Err)
}

func (e *TemplateError) Unwrap() error { return e.Err }

// text/template reports `template: NAME:LINE: msg` (parse) and
// `template: NAME:LINE:COL: executing "NAME" at <.X>: msg` (execution).
// It is compiled on the first error, not at start-up, which every appgen command pays.
var templateErrorRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^template: (.*?):(\d+):(?:\d+:)? (?:executing "[^"]*" at (<[^>]*>): )?(.*)$`)
})

func newTemplateError(file string, err error) *TemplateError {
	msg := err.Error()
	prefix := "template: " + file + ":"
	if strings.HasPrefix(msg, prefix) {
		if m := templateErrorRE().FindStringSubmatch(msg); m != nil && m[1] == file {
			line, _ := strconv.Atoi(m[2])
			detail := m[4]
			if m[3] != "" {
				detail = m[3] + ": " + detail
			}
			return &TemplateError{File: file, Line: line, Err: errors.New(detail)}
		}
	}
	return &TemplateError{File: file, Err: err}
}
