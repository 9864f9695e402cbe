// Package acauth implements Activeconnect "Authentication Protocol 1"
// (HMAC-SHA-256-128): signing outgoing requests and verifying incoming ones.
// It is the single implementation shared by the emulator and the Go client,
// so both sides agree byte for byte on what is signed. It imports only the standard library.
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
// where token = SHA-256(nonce + secret)[:16], string_to_sign = nonce +
// URI + timestamp with URI being the request URI without its scheme
// (host[:port], path and query exactly as sent on the wire), and signature =
// base64(HMAC-SHA-256(token, string_to_sign)[:16]) with standard padded
// encoding.
//
// The nonce is an opaque token: 1 to [MaxNonceLen] (64) bytes of printable
// ASCII (space to '~') other than ':' ([CheckNonce]). The official client
// sends a random uint64 in decimal, the iOS SDK the same in 16 upper-case hex
// digits (printf's %016llX); both verify, and replay protection tells nonces
// apart by their exact text, so "007" and "7" are different nonces.
//
// # Header families
//
// The service was called Sonikpass, then Activeconnect, then IAMPASS, and
// each lineage names the timestamp and version headers with its own prefix;
// the published documents also misspell "Authentication" as
// "Authentiaction". The verifier accepts all six [HeaderFamily] spellings,
// matched without regard to case as HTTP header names are:
//
//	X-Activeconnect-Authentication-*   the official Python client, Activeconnect 0.0.8 (the signer's default)
//	X-Activeconnect-Authentiaction-*   the published Activeconnect documentation
//	X-IAMPASS-Authentiaction-*         the IAMPASS documentation (and, so taken, the IAMPASS client)
//	X-IAMPASS-Authentication-*
//	X-Sonikpass-Authentication-*       the Activeconnect iOS SDK (2020)
//	X-Sonikpass-Authentiaction-*
//
// The IAMPASS Python package (0.0.32) is Activeconnect 0.0.8 rebranded; it
// is taken to send what the IAMPASS documentation names.
//
// A request may carry the timestamp (or the version) under several names
// only if they agree; otherwise it is refused as bad_header naming them all,
// with the field naming the odd one out: the first header, in the order
// above, whose value differs from the one most of them carry (on a tie, from
// the first one's).
// A rejection's field names a header as the client's family spells it, the
// signature_mismatch message says which header the timestamp came from, and
// [HeadersUsed] tells a log which names a request used. [Signer.Headers]
// picks the family a signer sends, to test a server against the clients of
// another lineage.
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
//     credentials have fewer than three colon-separated parts or lack a
//     client ID or a signature, a header is repeated (or sent under several family names
//     with different values), or the timestamp is not a decimal integer.
//     A code of its own, rather than missing_header, tells a client developer
//     exactly what to fix.
//   - bad_nonce: the nonce is empty, longer than MaxNonceLen bytes, or holds
//     ':' or a byte outside printable ASCII; the message says which. Neither
//     a client ID nor a base64 signature can hold ':', so the nonce is all
//     that lies between the first and the last ':' of the credentials.
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
// number of entries (default 100 000, see [WithReplayCacheSize]), whatever
// the length of the nonces; when it is full it evicts the oldest entry,
// trading a possible replay of that very old nonce for bounded memory under
// load. An entry is not the client ID and nonce text but a 128-bit keyed hash
// of it (two maphash sums of client ID, ':' and nonce, under two random seeds
// that never leave the process), with the request's timestamp: 24 bytes, plus
// a slot of 8 bytes in a table at most half full. A fresh nonce is therefore
// refused as replayed_nonce only if its client ID and nonce share both sums
// with a pair that verified within the skew window: a 128-bit collision under
// secret seeds, about n²/2¹²⁹ among n remembered pairs (10⁻²⁹ for a full
// default cache), and only a pair that verified can take part in one
// (maphash is not a cryptographic hash, but its secret seed is what Go's own
// maps rely on against collisions chosen from outside). The
// cache holds no pointer, so it costs the garbage collector nothing: 45
// bytes per entry measured, about 4.5 MB (4,497,152 bytes) for a full default
// cache (BenchmarkReplayCacheMemory).
//
// After success the middleware stores the client ID in the request context
// ([ClientIDFromContext]); [WithVerdictHook] reports every verdict for
// logging and [WithErrorWriter] replaces the default [WriteRejection].
package acauth
