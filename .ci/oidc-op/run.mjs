// node-oidc-provider, a certified OpenID Provider, on a free port of 127.0.0.1,
// signing ID tokens with ES256; solution 11 signs in against it with --issuer,
// and this script plays the browser: the login and consent pages of the
// provider's development interactions, then the redirect to the program's
// loopback listener. Passes when solution 11 has verified the ID token.
//
// node run.mjs PATH/TO/solution11
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

import Provider from 'oidc-provider';

const program = process.argv[2];
if (!program) {
  console.error('usage: node run.mjs PATH/TO/solution11');
  process.exit(2);
}
const fail = (why) => {
  console.error(`oidc-op: FAILED: ${why}`);
  process.exit(1);
};

// An EC P-256 signing key, made now (RFC 7518 §3.4, §6.2).
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'oidc-op-es256', alg: 'ES256', use: 'sig' };

const server = createServer();
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const issuer = `http://127.0.0.1:${server.address().port}`;

const users = { alice: { name: 'Alice Liddell', email: 'alice@example.com' } };
const provider = new Provider(issuer, {
  clients: [{
    // What solution 11 sends: a public native client, PKCE, a loopback
    // redirect on any port (RFC 8252 §7.3), ES256 ID tokens.
    client_id: 'lab-rp',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'] },
  // The profile and email claims in the ID token too, not only at /me.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  ttl: { AccessToken: 600, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
  async findAccount(_ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: user.name, preferred_username: id, email: user.email, email_verified: true };
      },
    };
  },
});
server.on('request', provider.callback());

// A browser's cookie jar, enough for one sign-in on one host.
const jar = new Map();
const remember = (response) => {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const at = pair.indexOf('=');
    jar.set(pair.slice(0, at).trim(), pair.slice(at + 1));
  }
};
const cookies = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
async function browse(url, form) {
  const response = await fetch(url, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: { cookie: cookies(), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  remember(response);
  return response;
}

// Follows redirects on the provider; stops at the first URL elsewhere (the
// program's callback) or at a page (an interaction).
async function follow(url, form) {
  let response = await browse(url, form);
  for (let hops = 0; hops < 10; hops += 1) {
    const next = response.headers.get('location');
    if (!next) return { page: response, url };
    url = new URL(next, url).href;
    if (!url.startsWith(issuer)) return { leave: url };
    response = await browse(url);
  }
  return fail('too many redirects at the provider');
}

async function signIn(authorizeUrl) {
  let step = await follow(authorizeUrl);
  for (let pages = 0; pages < 4 && !step.leave; pages += 1) {
    const html = await step.page.text();
    if (step.page.status !== 200) fail(`the provider answered ${step.page.status}: ${html.slice(0, 300)}`);
    const action = html.match(/<form[^>]*action="([^"]+)"/);
    if (!action) fail(`no form on the page at ${step.url}: ${html.slice(0, 300)}`);
    const target = new URL(action[1].replaceAll('&amp;', '&'), step.url).href;
    const prompt = html.match(/name="prompt" value="([^"]+)"/)?.[1];
    console.log(`  browser: ${prompt} page, submitted`);
    step = prompt === 'login'
      ? await follow(target, { prompt: 'login', login: 'alice', password: 'any' })
      : await follow(target, { prompt: 'consent' });
  }
  if (!step.leave) fail('the sign-in did not leave the provider');
  const back = new URL(step.leave);
  if (back.searchParams.get('error')) fail(`the provider refused: ${back.search}`);
  if (back.searchParams.get('iss') !== issuer) fail(`the answer names the issuer ${back.searchParams.get('iss')}, not ${issuer}`);
  console.log(`  browser: back to ${back.origin}${back.pathname} with a code and iss (RFC 9207)`);
  const answer = await fetch(step.leave);
  console.log(`  browser: the program's page said ${answer.status}`);
}

const started = Date.now();
const child = spawn(program, [
  '--issuer', issuer, '--client-id', 'lab-rp', '--scope', 'openid profile email', '--timeout', '60s',
], { env: { ...process.env, BROWSER: 'true', LAB_MOCK_URL: 'none' }, stdio: ['ignore', 'pipe', 'inherit'] });
const output = [];
let browsing;
createInterface({ input: child.stdout }).on('line', (line) => {
  output.push(line);
  console.log(`  solution11| ${line}`);
  const url = line.trim();
  if (!browsing && url.startsWith(`${issuer}/auth?`)) {
    browsing = signIn(url).catch((e) => fail(e.stack ?? e));
  }
});
const code = await new Promise((ok) => child.on('exit', ok));
await browsing;
server.close();
const all = output.join('\n');
if (code !== 0) fail(`solution11 exited with ${code}`);
if (!/Verified: Alice Liddell \(alice@example\.com\), sub "alice" at http:\/\/127\.0\.0\.1:\d+\n/.test(all)) {
  fail('solution11 did not report the verified ID token');
}
console.log(`oidc-op: PASSED: solution11 verified node-oidc-provider's ES256 ID token (${Date.now() - started} ms)`);
