// A real OpenID provider for the SSO tests: the certified `oidc-provider` package, configured from a JSON
// file the test writes (`node provider.mjs CONFIG.json`, or OIDC_PROVIDER_CONFIG=...).
//
// The configuration holds the issuer and port, the signing keys (private JWKs), the clients, the accounts
// (username, password, claims) and an admin token. Beside the provider's own endpoints it serves:
//   GET  /interaction/:uid          a plain login form (Username, Password, "Sign in", "Cancel") that a
//   POST /interaction/:uid/login    test can POST to with requests, or that Chromium can fill;
//   POST /interaction/:uid/abort    "Cancel": the provider answers the client with error=access_denied.
//   POST /__test__/mode             (header x-admin-token) how to misbehave from now on, for the tests of a
//                                   relying party's checks: see `applyMode` below.
//   GET  /__test__/stats            (header x-admin-token) how many discovery, JWKS, token and userinfo
//                                   requests were served.
// Key rotation: the test restarts the process with other keys (the same issuer and port).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { CompactSign, importJWK } from 'jose';
import Provider from 'oidc-provider';

const configPath = process.argv[2] || process.env.OIDC_PROVIDER_CONFIG;
if (!configPath) {
  console.error('usage: node provider.mjs CONFIG.json (or OIDC_PROVIDER_CONFIG=CONFIG.json)');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const port = Number(process.argv[3] || process.env.OIDC_PROVIDER_PORT || config.port);
const accounts = new Map(config.accounts.map((account) => [account.sub, account]));
const stats = { discovery: 0, jwks: 0, token: 0, userinfo: 0 };
let mode = {};

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, clientName, error) {
  const message = error ? `<p role="alert">${escapeHtml(error)}</p>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body>
<h1>Sign in to ${escapeHtml(clientName)}</h1>
${message}
<form method="post" action="/interaction/${uid}/login">
  <p><label for="login">Username</label> <input id="login" name="login" autocomplete="username" required></p>
  <p><label for="password">Password</label>
     <input id="password" name="password" type="password" autocomplete="current-password" required></p>
  <p><button type="submit">Sign in</button></p>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>
</body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

function findByUsername(username) {
  return [...accounts.values()].find((account) => account.username === username);
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: [config.admin_token] },
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'given_name', 'family_name'],
    groups: ['groups'],
  },
  conformIdTokenClaims: config.conform_id_token_claims ?? true,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: { IdToken: config.id_token_ttl ?? 3600, Session: 3600, Grant: 3600, Interaction: 600 },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return { accountId: sub, async claims() { return { sub, ...account.claims }; } };
  },
  // First-party test clients: every requested scope is granted without a consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

const adminAllowed = (ctx) => ctx.get('x-admin-token') === config.admin_token;

async function interactions(ctx, next) {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/(login|abort))?$/);
  if (!match) return next();
  const [, uid, , action] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
  const clientName = details.params.client_id;
  if (ctx.method === 'GET' && !action) {
    ctx.type = 'html';
    ctx.body = loginPage(uid, clientName);
    return undefined;
  }
  if (ctx.method !== 'POST') ctx.throw(405);
  let result;
  if (action === 'abort') {
    result = { error: 'access_denied', error_description: 'The person cancelled the sign-in.' };
  } else {
    const form = await readForm(ctx.req);
    const account = findByUsername(form.get('login'));
    if (!account || account.password !== form.get('password')) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(uid, clientName, 'Wrong username or password.');
      return undefined;
    }
    result = { login: { accountId: account.sub } };
  }
  const target = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(target);
  return undefined;
}

async function admin(ctx, next) {
  if (!ctx.path.startsWith('/__test__/')) return next();
  if (!adminAllowed(ctx)) ctx.throw(403);
  if (ctx.path === '/__test__/mode' && ctx.method === 'POST') {
    mode = await readJson(ctx.req);
    ctx.body = { mode };
  } else if (ctx.path === '/__test__/stats' && ctx.method === 'GET') {
    ctx.body = stats;
  } else {
    ctx.throw(404);
  }
  return undefined;
}

const base64url = (text) => Buffer.from(text).toString('base64url');
const decodeSegment = (segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

// Misbehave as the test asked, on an ID token the provider has just issued:
//   tamper_id_token: true    change `sub` in the payload and keep the signature (a forged token);
//   id_token_claims: {...}   claims to set (null removes one), then signed again with...
//   sign_with: JWK           ...this private key (one the JWKS need not publish), else the provider's own;
//   userinfo_claims: {...}   claims the userinfo endpoint answers instead of the account's.
async function applyMode(idToken) {
  const [headerPart, payloadPart, signature] = idToken.split('.');
  const payload = decodeSegment(payloadPart);
  if (mode.tamper_id_token) {
    payload.sub = `${payload.sub}-forged`;
    return `${headerPart}.${base64url(JSON.stringify(payload))}.${signature}`;
  }
  if (!mode.id_token_claims && !mode.sign_with) return idToken;
  for (const [name, value] of Object.entries(mode.id_token_claims || {})) {
    if (value === null) delete payload[name];
    else payload[name] = value;
  }
  const jwk = mode.sign_with || config.jwks.keys[0];
  const key = await importJWK(jwk, 'RS256');
  return new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
    .sign(key);
}

async function misbehave(ctx, next) {
  if (mode.delay_ms && !ctx.path.startsWith('/__test__/')) await sleep(mode.delay_ms);
  if (ctx.path === '/.well-known/openid-configuration') stats.discovery += 1;
  if (ctx.path === '/jwks') stats.jwks += 1;
  if (ctx.path === '/token') stats.token += 1;
  if (ctx.path === '/me') stats.userinfo += 1;
  if (ctx.path === '/jwks' && mode.published_jwks) {
    ctx.type = 'application/jwk-set+json';
    ctx.body = mode.published_jwks;
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await applyMode(ctx.body.id_token) };
  }
  if (ctx.path === '/me' && ctx.status === 200 && mode.userinfo_claims) {
    ctx.body = { ...ctx.body, ...mode.userinfo_claims };
  }
}

provider.use(admin);
provider.use(misbehave);
provider.use(interactions);

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${config.issuer}`);
});
