package storagetest_test

import (
	"testing"

	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/storage/storagetest"
)

// A backend's test file runs the whole suite with one call. open returns a
// new, empty store for each subtest; a database backend would create or
// empty its tables there and register cleanup with t.Cleanup.
func ExampleRun() {
	// In mystore_test.go:
	//
	//	func TestConformance(t *testing.T) {
	//		storagetest.Run(t, func(t *testing.T) storagetest.Store {
	//			return memory.New()
	//		})
	//	}
	testConformance := func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T) storagetest.Store {
			return memory.New()
		})
	}
	_ = testConformance
}
