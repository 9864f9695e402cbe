// Package acauth implements Activeconnect "Authentication Protocol 1"
// (HMAC-SHA-256-128): signing outgoing requests and verifying incoming ones.
// It is the single implementation shared by the emulator and the Go client,
// so both sides agree byte for byte on what is signed.
//
// Use:
//
//	signer := acauth.NewSigner(appID, appSecret)                      // or session token + session secret
//	httpClient := &http.Client{Transport: signer.RoundTripper(nil)}   // or WithRequestEditorFn(signer.SignRequest)
//	handler = acauth.NewVerifier(lookup).Middleware(handler)          // server: 401 JSON unless verified
//
// # Protocol
//
// A request carries three headers:
//
//	Authentication: hmac {client_id}:{nonce}:{signature}
//	X-Activeconnect-Authentication-Timestamp: {unix seconds}
//	X-Activeconnect-Authentication-Version: 1
//
// where nonce is a random unsigned 64-bit integer in decimal without
// padding, token = SHA-256(nonce + secret)[:16], string_to_sign = nonce +
// URI + timestamp with URI being the request URI without its scheme
// (host[:port], path and query exactly as sent on the wire), and signature =
// base64(HMAC-SHA-256(token, string_to_sign)[:16]) with standard padded
// encoding. The published documentation misspells the last two headers as
// X-Activeconnect-Authentiaction-...; the verifier accepts both spellings,
// the signer sends the correct one.
//
// # Rejections
//
// Every failed verification is a 401 with a JSON body
//
//	{"status": false, "code": "...", "message": "...", "field": "...", "string_to_sign": "..."}
//
// where field names the header at fault (when there is one) and
// string_to_sign is present only for signature_mismatch and shows what the
// server signed (never the secret or the token). A "WWW-Authenticate: hmac"
// header is added because HTTP requires a challenge on 401. The codes are listed in the
// order the checks run (each header's presence is checked just before its
// content):
//
//   - missing_header: a required header (Authentication, timestamp, version) is absent.
//   - bad_scheme: the Authentication scheme is not "hmac" (compared case-insensitively).
//   - bad_header: a header is present but malformed: the Authentication
//     credentials are not three non-empty colon-separated parts, a header is
//     repeated (or sent in both spellings with different values), or the
//     timestamp is not a decimal integer.
//     A code of its own, rather than missing_header, tells a client developer
//     exactly what to fix.
//   - bad_nonce: the nonce is not a canonical decimal uint64 (no sign, no
//     leading zeros, no overflow). Leading zeros are rejected because the
//     protocol says "no padding" and an emulator should surface such bugs.
//   - bad_version: the version header is not "1" (a separate code for the
//     same reason as bad_header).
//   - stale_timestamp: the timestamp is further than the allowed clock skew
//     (default 300 s, see [Verifier.SetMaxSkew]) from the verifier's clock.
//   - unknown_client: the lookup does not know the client ID (or failed, or
//     returned an empty secret). This and the next check run before the
//     signature check, so they reveal whether a client ID exists; that suits
//     an emulator, whose job is to say precisely what failed.
//   - wrong_credentials_for_route: the lookup knows the client ID but these
//     credentials may not be used for this route.
//   - signature_mismatch: the signature does not match.
//   - replayed_nonce: the client already used this nonce within the skew window.
//
// The nonce is recorded only after the signature verifies, so unauthenticated
// garbage cannot fill the replay cache. The cache holds at most a fixed
// number of entries (default 100 000, see [WithReplayCacheSize]); when full it
// evicts the oldest entry, trading a possible replay of that very old nonce
// for bounded memory under load.
//
// After success the middleware stores the client ID in the request context
// ([ClientIDFromContext]); [WithVerdictHook] reports every verdict for
// logging and [WithErrorWriter] replaces the default [WriteRejection].
package acauth
