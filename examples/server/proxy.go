package main

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// proxySet is the reverse proxies (-trusted-proxies) whose
// X-Forwarded-For the server believes. Behind a proxy every request comes
// from the proxy's address: without them, the sign-in and device-code
// throttles would count every client under that one address, and any
// client's wrong guesses would lock everyone out.
type proxySet []netip.Prefix

// parseProxies reads space- or comma-separated IP addresses and CIDR
// prefixes.
func parseProxies(s string) (proxySet, error) {
	var set proxySet
	for f := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			set = append(set, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("-trusted-proxies: %q is not an IP address or CIDR prefix", f)
		}
		a = a.Unmap()
		set = append(set, netip.PrefixFrom(a, a.BitLen()))
	}
	return set, nil
}

func (p proxySet) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// client returns the client's address from the X-Forwarded-For of a
// request a trusted proxy sent: the right-most address that is not a
// trusted proxy (what is left of it, the client wrote itself). ok is
// false when there is none, or the list is malformed.
func (p proxySet) client(forwarded []string) (netip.Addr, bool) {
	hops := strings.Split(strings.Join(forwarded, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			return netip.Addr{}, false
		}
		if !p.contains(a) {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// realClient sets the RemoteAddr of a request that came through a
// trusted proxy to the client's address (port 0), for everything after
// it: the request log, the throttles, the library's password attempts.
// Requests from elsewhere keep theirs, X-Forwarded-For or not.
func (p proxySet) realClient(next http.Handler) http.Handler {
	if len(p) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err == nil && p.contains(peer.Addr()) {
			if c, ok := p.client(r.Header.Values("X-Forwarded-For")); ok {
				r2 := *r
				r2.RemoteAddr = netip.AddrPortFrom(c, 0).String()
				r = &r2
			}
		}
		next.ServeHTTP(w, r)
	})
}
