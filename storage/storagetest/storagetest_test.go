package storagetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/storage/storagetest"
)

// TestMemory runs the suite on the in-memory store, which passes it.
func TestMemory(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Store { return memory.New() })
}

// mutantEnv names the broken store TestBrokenStore runs the suite on.
const mutantEnv = "STORAGETEST_MUTANT"

// TestBrokenStore runs the suite on a deliberately broken store when the
// environment names one; TestSuiteCatchesBrokenStores runs it in a child
// process and expects it to fail. Otherwise it is skipped.
func TestBrokenStore(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestSuiteCatchesBrokenStores")
	}
	m, ok := mutantByName(name)
	if !ok {
		t.Fatalf("unknown mutant %q", name)
	}
	storagetest.Run(t, func(t *testing.T) storagetest.Store { return m.wrap(memory.New()) })
}

// TestSuiteCatchesBrokenStores checks that the suite is not a test that
// cannot fail: for each broken store, the subtests named must fail.
func TestSuiteCatchesBrokenStores(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("inside a child")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			for _, leaf := range m.fails {
				group, tc, _ := strings.Cut(leaf, "/")
				cmd := exec.CommandContext(t.Context(), os.Args[0],
					"-test.run=^TestBrokenStore$/^"+regexp.QuoteMeta(group)+"$/^"+regexp.QuoteMeta(tc)+"$",
					"-test.count=1")
				cmd.Env = append(os.Environ(), mutantEnv+"="+m.name)
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("child for %s: got error %v; want a failing exit\n%s", leaf, err, out)
				}
				if want := "--- FAIL: TestBrokenStore/" + leaf + " "; !strings.Contains(string(out), want) {
					t.Errorf("child for %s: output lacks %q:\n%s", leaf, want, out)
				}
			}
		})
	}
}

// mutant is a store broken in one way and the subtests that must notice.
type mutant struct {
	name  string
	wrap  func(storagetest.Store) storagetest.Store
	fails []string
}

func mutantByName(name string) (mutant, bool) {
	i := slices.IndexFunc(mutants, func(m mutant) bool { return m.name == name })
	if i < 0 {
		return mutant{}, false
	}
	return mutants[i], true
}

var mutants = []mutant{
	{"TruncatesTimesToSeconds", func(s storagetest.Store) storagetest.Store { return truncatingTimes{s} },
		[]string{"AccessTokens/RoundTrip", "AccessTokens/RoundTripEveryField"}},
	{"SortsScopes", func(s storagetest.Store) storagetest.Store { return sortingScopes{s} },
		[]string{"AuthCodes/RoundTrip"}},
	{"ConsumesTwice", func(s storagetest.Store) storagetest.Store { return consumingTwice{s} },
		[]string{"AuthCodes/Consume", "Races/ConsumeAuthCode"}},
	{"JudgesExpiryByWallClock", func(s storagetest.Store) storagetest.Store { return wallClockExpiry{s} },
		[]string{"AuthCodes/ConsumeExpired"}},
	{"NeverSlowsDown", func(s storagetest.Store) storagetest.Store { return neverSlowingDown{s} },
		[]string{"DeviceCodes/Poll", "Races/PollDeviceCode"}},
	{"PurgesAtTheCutoff", func(s storagetest.Store) storagetest.Store { return purgingAtCutoff{s} },
		[]string{"Purge/AuthCodes"}},
	{"AcceptsUnknownClients", func(s storagetest.Store) storagetest.Store { return acceptingUnknownClients{s} },
		[]string{"Invalid/AccessTokens"}},
	{"LosesErrNotFound", func(s storagetest.Store) storagetest.Store { return losingNotFound{s} },
		[]string{"Clients/Missing", "Clients/Delete"}},
	{"IgnoresContext", func(s storagetest.Store) storagetest.Store { return ignoringContext{s} },
		[]string{"Context/Cancelled"}},
	{"SharesRecords", func(s storagetest.Store) storagetest.Store { return &sharingRecords{Store: s} },
		[]string{"Copies/Client"}},
	{"MiscountsFamily", func(s storagetest.Store) storagetest.Store { return miscountingFamily{s} },
		[]string{"AccessTokens/RevokeFamily"}},
	{"StoresSuccessorOnFailedRotation", func(s storagetest.Store) storagetest.Store { return leakyRotation{s} },
		[]string{"RefreshTokens/RotateRefused", "Races/RotateRefreshToken"}},
	{"ListsUnsorted", func(s storagetest.Store) storagetest.Store { return unsortedList{s} },
		[]string{"Clients/List"}},
	{"RepeatsScopes", func(s storagetest.Store) storagetest.Store { return repeatingScopes{s} },
		[]string{"Scopes/FindScopes"}},
}

type truncatingTimes struct{ storagetest.Store }

func (s truncatingTimes) FindAccessToken(ctx context.Context, id string) (*oauth.AccessToken, error) {
	t, err := s.Store.FindAccessToken(ctx, id)
	if t != nil {
		t.ExpiresAt, t.CreatedAt = t.ExpiresAt.Truncate(time.Second), t.CreatedAt.Truncate(time.Second)
	}
	return t, err
}

type sortingScopes struct{ storagetest.Store }

func (s sortingScopes) FindAuthCode(ctx context.Context, id string) (*oauth.AuthCode, error) {
	c, err := s.Store.FindAuthCode(ctx, id)
	if c != nil {
		slices.Sort(c.Scopes)
	}
	return c, err
}

type consumingTwice struct{ storagetest.Store }

func (s consumingTwice) ConsumeAuthCode(ctx context.Context, id string, now time.Time) (*oauth.AuthCode, error) {
	c, err := s.Store.ConsumeAuthCode(ctx, id, now)
	if errors.Is(err, oauth.ErrAlreadyUsed) {
		c, err = s.Store.FindAuthCode(ctx, id)
		if c != nil {
			c.Revoked = false
		}
	}
	return c, err
}

type wallClockExpiry struct{ storagetest.Store }

func (s wallClockExpiry) ConsumeAuthCode(ctx context.Context, id string, _ time.Time) (*oauth.AuthCode, error) {
	return s.Store.ConsumeAuthCode(ctx, id, time.Now())
}

type neverSlowingDown struct{ storagetest.Store }

func (s neverSlowingDown) PollDeviceCode(ctx context.Context, id string, now time.Time) (*oauth.DeviceCode, error) {
	d, err := s.Store.PollDeviceCode(ctx, id, now)
	if errors.Is(err, oauth.ErrSlowDown) {
		err = nil
	}
	return d, err
}

type purgingAtCutoff struct{ storagetest.Store }

func (s purgingAtCutoff) PurgeAuthCodes(ctx context.Context, before time.Time) (int64, error) {
	return s.Store.PurgeAuthCodes(ctx, before.Add(time.Microsecond))
}

type acceptingUnknownClients struct{ storagetest.Store }

func (s acceptingUnknownClients) CreateAccessToken(ctx context.Context, t *oauth.AccessToken) error {
	if t != nil && t.ClientID != "" && len(t.ClientID) <= oauth.MaxClientIDLen {
		if _, err := s.FindClient(ctx, t.ClientID); errors.Is(err, oauth.ErrNotFound) {
			_ = s.CreateClient(ctx, &oauth.Client{ID: t.ClientID, Name: "made up"})
		}
	}
	return s.Store.CreateAccessToken(ctx, t)
}

type losingNotFound struct{ storagetest.Store }

func (s losingNotFound) FindClient(ctx context.Context, id string) (*oauth.Client, error) {
	c, err := s.Store.FindClient(ctx, id)
	if errors.Is(err, oauth.ErrNotFound) {
		err = errors.New("no such client")
	}
	return c, err
}

type ignoringContext struct{ storagetest.Store }

func (s ignoringContext) RevokeAccessToken(_ context.Context, id string) error {
	return s.Store.RevokeAccessToken(context.Background(), id)
}

// sharingRecords hands out the same client record on every find, as a
// store returning its internal pointers would.
type sharingRecords struct {
	storagetest.Store
	mu   sync.Mutex
	seen map[string]*oauth.Client
}

func (s *sharingRecords) FindClient(ctx context.Context, id string) (*oauth.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.seen[id]; ok {
		return c, nil
	}
	c, err := s.Store.FindClient(ctx, id)
	if err == nil {
		if s.seen == nil {
			s.seen = map[string]*oauth.Client{}
		}
		s.seen[id] = c
	}
	return c, err
}

type miscountingFamily struct{ storagetest.Store }

func (s miscountingFamily) RevokeAccessTokenFamily(ctx context.Context, familyID string) (int64, error) {
	n, err := s.Store.RevokeAccessTokenFamily(ctx, familyID)
	if n > 0 {
		n++ // counts the already revoked token too
	}
	return n, err
}

type leakyRotation struct{ storagetest.Store }

func (s leakyRotation) RotateRefreshToken(ctx context.Context, oldID string, next *oauth.RefreshToken, now time.Time) error {
	err := s.Store.RotateRefreshToken(ctx, oldID, next, now)
	if err != nil && next != nil {
		_ = s.CreateRefreshToken(ctx, next)
	}
	return err
}

type unsortedList struct{ storagetest.Store }

func (s unsortedList) ListClients(ctx context.Context) ([]oauth.Client, error) {
	cs, err := s.Store.ListClients(ctx)
	slices.Reverse(cs)
	return cs, err
}

type repeatingScopes struct{ storagetest.Store }

func (s repeatingScopes) FindScopes(ctx context.Context, ids []string) ([]oauth.Scope, error) {
	var out []oauth.Scope
	for _, id := range ids {
		got, err := s.Store.FindScopes(ctx, []string{id})
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}
