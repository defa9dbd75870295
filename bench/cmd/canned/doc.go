// Command canned is the ceiling of the nginx → FastCGI path for the benchmarks in bench/: a
// FastCGI responder that parses just enough of each connection to answer every request with the
// same canned bytes, never building a request or calling a handler. Whatever appgen's FastCGI
// server loses against it is the cost of doing real work per request.
//
// It honours FCGI_KEEP_CONN and multiplexed request IDs, and answers only the responder role;
// anything it does not understand closes the connection.
//
//	canned -listen 127.0.0.1:9001
package main
