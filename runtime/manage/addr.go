package manage

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// defaultHost is where runserver listens when ADDR is only a port: loopback, so a development
// server is not on the network unless asked.
const defaultHost = "127.0.0.1"

// defaultAddr is runserver's address with no ADDR, Django's.
const defaultAddr = "127.0.0.1:8000"

// parseAddr reads runserver's ADDR: PORT, HOST:PORT or [IPV6]:PORT, with Django's shorthand "0"
// for 0.0.0.0. It returns the address for net.Listen.
func parseAddr(s string) (string, error) {
	host, port := defaultHost, s
	if !allDigits(s) {
		var err error
		host, port, err = net.SplitHostPort(s)
		if err != nil {
			return "", fmt.Errorf("runserver: address %q: want PORT or HOST:PORT ([HOST]:PORT for IPv6)", s)
		}
		switch {
		case host == "":
			return "", fmt.Errorf("runserver: address %q has no host; want 0.0.0.0%s to listen on every interface, 127.0.0.1%[2]s for this machine only", s, s)
		case host == "0":
			host = "0.0.0.0"
		case strings.ContainsFunc(host, badHostRune):
			return "", fmt.Errorf("runserver: host %q in address %q: want a host name or an IP address", host, s)
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || !allDigits(port) || n > 65535 {
		return "", fmt.Errorf("runserver: port %q in address %q: want a number from 0 to 65535", port, s)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// badHostRune rejects what no host name or IP address (with an IPv6 zone) contains.
func badHostRune(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	case r == '.' || r == '-' || r == ':' || r == '%' || r == '_':
		return false
	}
	return true
}
