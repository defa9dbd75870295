package ajp

import (
	"context"
	"net/http"
)

// Attributes are what the web server sent about a request besides its
// method, URI and headers. Handlers read them with RequestAttributes.
type Attributes struct {
	// RemoteHost is the client's host name when the web server looked it
	// up (Apache's HostnameLookups); "" otherwise.
	RemoteHost string
	// RemoteUser is the user the web server authenticated; "" when none.
	RemoteUser string
	// AuthType is the web server's authentication scheme ("Basic", …);
	// "" when none.
	AuthType string
	// Route is the jvm_route of a load balancer's sticky sessions; "" when
	// not sent.
	Route string
	// SSLCert is the client certificate in PEM form; "" when none.
	SSLCert string
	// SSLCipher is the TLS cipher suite's name as the web server spells it;
	// "" when the request did not come over TLS or the server did not say.
	SSLCipher string
	// SSLSession is the TLS session ID; "" when not sent.
	SSLSession string
	// SSLKeySize is the cipher's key size in bits; 0 when not sent.
	SSLKeySize int
	// The allow-listed req_attribute pairs; each "" when not sent.
	// AJP_REMOTE_PORT has no field: it is the port of r.RemoteAddr.

	// LocalAddr is AJP_LOCAL_ADDR, the web server's address the client
	// connected to.
	LocalAddr string
	// SSLProtocol is AJP_SSL_PROTOCOL ("TLSv1.3", …).
	SSLProtocol string
	// LBActivation is JK_LB_ACTIVATION, mod_jk's load-balancer state of
	// this worker ("ACT", "DIS", "STP").
	LBActivation string
}

type attributesKey struct{}

// RequestAttributes returns the AJP attributes of r; the zero Attributes
// when r did not come from this package or its web server sent none.
func RequestAttributes(r *http.Request) Attributes {
	a, _ := r.Context().Value(attributesKey{}).(*Attributes)
	if a == nil {
		return Attributes{}
	}
	return *a
}

// empty reports whether there is nothing worth putting in a request's
// context, which spares an allocation when the web server sent nothing.
func (a *Attributes) empty() bool { return *a == Attributes{} }

// attrContext carries a request's Attributes in the context that also
// cancels it: one allocation, where context.WithValue and a copy of the
// Attributes would be two. Cancellation still comes from the embedded
// context, so contexts derived from it are cancelled without a goroutine.
type attrContext struct {
	context.Context
	attrs Attributes
}

func (c *attrContext) Value(key any) any {
	if _, ok := key.(attributesKey); ok {
		return &c.attrs
	}
	return c.Context.Value(key)
}
