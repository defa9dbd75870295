package generator

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrRenderLimit is wrapped by errors for a template that renders too much, too long, or
// builds a value beyond the limits while it renders (see RenderLimits).
var ErrRenderLimit = errors.New("render limit exceeded")

// RenderLimits bound what rendering a template may cost, so a hostile or mistaken template
// (a loop without end, a string doubled in a loop, "x" | repeat 1e9) stops with an error
// instead of filling memory or running forever. The defaults are far above what a project
// template renders: the default template's largest file is a few KiB.
type RenderLimits struct {
	// MaxFileBytes bounds one rendered file, and every value a template function returns
	// (a string's bytes, a list's or dict's elements). 0 means 1 MiB.
	MaxFileBytes int64
	// MaxTotalBytes bounds all the files the template gives, rendered or copied. 0 means
	// 64 MiB, the most LoadTemplate reads.
	MaxTotalBytes int64
	// Timeout bounds the whole rendering of the template. 0 means 10 seconds.
	Timeout time.Duration
	// MaxDepth bounds how deeply templates call templates ({{"{{"}}template{{"}}"}}). 0 means 100.
	MaxDepth int
}

func (l RenderLimits) withDefaults() RenderLimits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = 1 << 20
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = 64 << 20
	}
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 100
	}
	return l
}

// limitedBuffer collects one rendered file and fails the write that would take it past
// the file limit or the template's total; text/template then stops executing and returns
// that error, so an oversized file is never held in memory beyond its limit.
type limitedBuffer struct {
	buf   []byte
	max   int64
	total *int64 // bytes of the whole template so far, shared by every file
	limit int64  // the limit on *total
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if int64(len(b.buf))+int64(len(p)) > b.max {
		return 0, fmt.Errorf("%w: the rendered file is over %d bytes", ErrRenderLimit, b.max)
	}
	if *b.total+int64(len(p)) > b.limit {
		return 0, fmt.Errorf("%w: the rendered files are over %d bytes in all", ErrRenderLimit, b.limit)
	}
	*b.total += int64(len(p))
	b.buf = append(b.buf, p...)
	return len(p), nil
}

var _ io.Writer = (*limitedBuffer)(nil)
