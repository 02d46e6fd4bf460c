package oauth_test

import (
	"fmt"

	"github.com/oauthkit/oauth"
)

// A client secret the library generates is shown once and stored as a hash.
func ExampleGenerateSecret() {
	secret, hash, err := oauth.GenerateSecret()
	if err != nil {
		panic(err)
	}
	client := oauth.Client{ID: "billing", Name: "Billing", Confidential: true, SecretHash: hash}
	fmt.Println(oauth.VerifySecret(client.SecretHash, secret))
	fmt.Println(oauth.VerifySecret(client.SecretHash, "guess"))
	// Output:
	// true
	// false
}

// The storage ID of an opaque value is its SHA-256; the value is never stored.
func ExampleHashValue() {
	fmt.Println(oauth.HashValue("oac_example"))
	// Output: ef22b0526c6e86d03890649d9d0b00b65ad76bbe41da034d9cd3d53f0a40aa2a
}

// Scope parameters are parsed strictly, as RFC 6749 §3.3 writes them.
func ExampleParseScope() {
	scopes, ok := oauth.ParseScope("read write read", 10)
	fmt.Println(scopes, ok)
	_, ok = oauth.ParseScope("read  write", 10)
	fmt.Println(ok)
	// Output:
	// [read write] true
	// false
}
