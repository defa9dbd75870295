package respond

// IsToken reports whether s is an RFC 9110 token: a method, or a header
// field name, as net/http checks one before it writes a header. Every
// request and every header of every response passes here, so it is a table
// lookup per byte.
func IsToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !tokenChar[s[i]] {
			return false
		}
	}
	return s != ""
}

// tokenChar holds RFC 9110's tchar: letters, digits and !#$%&'*+-.^_`|~.
var tokenChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
