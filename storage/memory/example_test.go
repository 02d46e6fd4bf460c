package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/memory"
)

func Example() {
	ctx := context.Background()
	store := memory.New()

	_, secretHash, err := oauth.GenerateSecret()
	if err != nil {
		panic(err)
	}
	err = store.CreateClient(ctx, &oauth.Client{
		ID:           "billing-service",
		Name:         "Billing",
		SecretHash:   secretHash,
		Confidential: true,
		GrantTypes:   []string{oauth.GrantClientCredentials},
		Scopes:       []string{"invoices:read"},
	})
	if err != nil {
		panic(err)
	}

	// An opaque access token is stored by the hash of its value.
	value := "oat_example-value"
	now := time.Now()
	err = store.CreateAccessToken(ctx, &oauth.AccessToken{
		ID:        oauth.HashValue(value),
		ClientID:  "billing-service",
		Scopes:    []string{"invoices:read"},
		FamilyID:  "grant-1",
		ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		panic(err)
	}

	tok, err := store.FindAccessToken(ctx, oauth.HashValue(value))
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.ClientID, tok.Scopes, tok.Active(now))

	_, err = store.FindAccessToken(ctx, oauth.HashValue("oat_unknown"))
	fmt.Println(errors.Is(err, oauth.ErrNotFound))
	// Output:
	// billing-service [invoices:read] true
	// true
}

// A code is consumed once: the second attempt reports it used.
func ExampleStore_ConsumeAuthCode() {
	ctx := context.Background()
	store := memory.New()
	if err := store.CreateClient(ctx, &oauth.Client{ID: "web", Name: "Web"}); err != nil {
		panic(err)
	}
	now := time.Now()
	id := oauth.HashValue("oac_example-code")
	err := store.CreateAuthCode(ctx, &oauth.AuthCode{
		ID: id, ClientID: "web", UserID: "alice", FamilyID: id,
		RedirectURI: "https://web.example/cb", ExpiresAt: now.Add(10 * time.Minute),
	})
	if err != nil {
		panic(err)
	}

	code, err := store.ConsumeAuthCode(ctx, id, now)
	fmt.Println(code.UserID, err)
	_, err = store.ConsumeAuthCode(ctx, id, now)
	fmt.Println(errors.Is(err, oauth.ErrAlreadyUsed))
	// Output:
	// alice <nil>
	// true
}
