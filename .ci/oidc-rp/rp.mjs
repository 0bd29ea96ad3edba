// An outside, certified OpenID Connect relying party (openid-client, with
// jose for a second look at the signature) signs alice in at the mock
// provider: discovery, the code flow with PKCE (RFC 7636) and a nonce
// (OpenID Connect Core 1.0 §3.1.2.1), the ID token's signature and claims
// (§3.1.3.7), and /userinfo (§5.3). Any error ends it with a non-zero status.
// Run by .ci/oidc-rp.sh, which starts the provider with --auto-approve alice.
//
//   node rp.mjs ISSUER
import * as client from 'openid-client';
import * as jose from 'jose';

const issuer = process.argv[2];
if (!issuer) {
  console.error('usage: node rp.mjs ISSUER (the mock provider\'s address)');
  process.exit(2);
}
const redirectUri = 'http://127.0.0.1:8123/callback';
const check = (ok, what) => {
  if (!ok) throw new Error(`check failed: ${what}`);
  console.log(`ok  ${what}`);
};

// Discovery (OpenID Connect Discovery 1.0 §4): the provider is plain http on
// loopback, so HTTPS-only is relaxed; signatures are checked against jwks_uri.
const config = await client.discovery(
  new URL(issuer),
  'lab-public',
  { id_token_signed_response_alg: 'ES256', redirect_uris: [redirectUri] },
  client.None(),
  { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
);
const meta = config.serverMetadata();
check(meta.issuer === issuer, `discovery: issuer ${meta.issuer}`);
check(meta.id_token_signing_alg_values_supported?.includes('ES256'), 'discovery: ES256 announced');

const verifier = client.randomPKCECodeVerifier();
const nonce = client.randomNonce();
const state = client.randomState();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  nonce,
  state,
});

// The provider approves as alice at once (--auto-approve alice): its answer
// is the redirect a browser would follow to the client.
const answer = await fetch(url, { redirect: 'manual' });
const location = answer.headers.get('location');
check(answer.status === 302 && location?.startsWith(redirectUri), `authorization: redirect to ${redirectUri}`);

// The code for tokens; openid-client checks state, iss (RFC 9207), the
// verifier, and the ID token: signature (jwks_uri), iss, aud, exp, iat, nonce.
const tokens = await client.authorizationCodeGrant(config, new URL(location), {
  pkceCodeVerifier: verifier,
  expectedNonce: nonce,
  expectedState: state,
  idTokenExpected: true,
});
const claims = tokens.claims();
check(claims.iss === issuer, `ID token: iss ${claims.iss}`);
check(claims.aud === 'lab-public', 'ID token: aud lab-public');
check(claims.nonce === nonce, 'ID token: nonce echoed');
check(typeof claims.sub === 'string' && claims.sub !== 'alice' && claims.sub !== claims.email, `ID token: sub ${claims.sub}, opaque`);
check(claims.preferred_username === 'alice' && claims.email === 'alice@example.test', 'ID token: profile and email claims');

// A second, independent check of the signature with jose and the JWK Set.
const jwks = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
const { protectedHeader } = await jose.jwtVerify(tokens.id_token, jwks, {
  issuer,
  audience: 'lab-public',
  algorithms: ['ES256'],
});
check(protectedHeader.alg === 'ES256' && typeof protectedHeader.kid === 'string', `jose: ES256 signature verifies with kid ${protectedHeader.kid.slice(0, 8)}…`);
const [h, p, s] = tokens.id_token.split('.');
const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url')}.${s}`;
let refused = false;
try {
  await jose.jwtVerify(forged, jwks, { algorithms: ['ES256'] });
} catch {
  refused = true;
}
check(refused && p.length > 0, 'jose: a token with a changed claim is refused');

// UserInfo (§5.3): openid-client checks that sub is the ID token's.
const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
check(info.sub === claims.sub && info.email === 'alice@example.test', 'userinfo: same sub, email');

// Refresh (§12.2): a new ID token for the same user, checked the same way.
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const again = refreshed.claims();
check(again?.sub === claims.sub && again.auth_time === claims.auth_time && again.nonce === undefined, 'refresh: new ID token, same sub and auth_time, no nonce');
console.log('openid-client accepted the mock provider as an OpenID Provider');
