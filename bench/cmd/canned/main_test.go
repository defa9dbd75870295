package main

import (
	"bufio"
	"net"
	"testing"

	"github.com/appgen/appgen/internal/reliability"
)

// TestServe: the canned responder answers each request, multiplexed or not, with Body under
// its own request ID, and closes the connection when the request did not ask to keep it.
func TestServe(t *testing.T) {
	tests := []struct {
		name     string
		ids      []uint16
		keepConn bool
	}{
		{"one request, keep-conn", []uint16{1}, true},
		{"three multiplexed requests", []uint16{1, 2, 300}, true},
		{"one request, no keep-conn", []uint16{7}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			done := make(chan error, 1)
			go func() { done <- serve(server, cannedReply(Body)) }()
			var in []byte
			for _, id := range tt.ids {
				in = append(in, reliability.FCGIRequest(id, tt.keepConn, []byte("ignored body"), reliability.GetParams("GET", "/")...)...)
			}
			go client.Write(in)
			got, err := reliability.ReadFCGIResponses(bufio.NewReader(client), len(tt.ids))
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range tt.ids {
				resp, ok := got[id]
				if !ok || resp.Status != 200 || string(resp.Body) != Body || resp.EndStatus != 0 {
					t.Errorf("request %d: got %+v, want 200 %q, FCGI_REQUEST_COMPLETE", id, resp, Body)
				}
			}
			if !tt.keepConn {
				if err := <-done; err != nil {
					t.Errorf("serve after a request without keep-conn: %v, want nil", err)
				}
			}
		})
	}
}

// TestServeRejects: a record the responder does not understand ends the connection with an error.
func TestServeRejects(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
	}{
		{"wrong version", reliability.FCGIRecord(2, reliability.FCGIBeginRequest, 1, make([]byte, 8), -1, 0)},
		{"stdin before begin", reliability.FCGIRecord(1, reliability.FCGIStdin, 1, nil, -1, 0)},
		{"authorizer role", reliability.FCGIRecord(1, reliability.FCGIBeginRequest, 1, []byte{0, 2, 0, 0, 0, 0, 0, 0}, -1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			done := make(chan error, 1)
			go func() { done <- serve(server, cannedReply(Body)) }()
			go client.Write(tt.input)
			if err := <-done; err == nil {
				t.Errorf("serve returned nil for %s, want an error", tt.name)
			}
		})
	}
}
