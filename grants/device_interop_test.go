package grants_test

import (
	"testing"
)

// TestInteropDeviceFlow drives the device flow with oauth4webapi: see
// testdata/interop/device-flow.mjs for the checks. The Go side serves the
// authorization server and plays the host (deviceHost): it approves each
// device request after its first poll, or denies it when it asks for the
// profile scope.
func TestInteropDeviceFlow(t *testing.T) {
	h, ts := newDeviceHost(t, denyProfile)
	runInterop(t, "device-flow.mjs", map[string]string{
		"INTEROP_ISSUER":           ts.URL,
		"INTEROP_VERIFICATION_URI": verifyURI,
		"INTEROP_D_ID":             idD,
		"INTEROP_D_SECRET":         secretD,
		"INTEROP_D2_ID":            idD2,
		"INTEROP_D2_SECRET":        secretD2,
		"INTEROP_DP_ID":            idDP,
	})
	t.Logf("token endpoint answers to device polls: %v", h.answerCounts())
}
