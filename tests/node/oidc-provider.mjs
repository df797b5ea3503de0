// A real, certified OpenID Provider (npm `oidc-provider`) on loopback for the Rust
// integration tests (tests/api/oidc.rs). It listens on 127.0.0.1 at a free port and
// prints one JSON line, {"issuer":"http://127.0.0.1:PORT"}; it stops when its stdin
// closes (the test dropped it).
//
// The test then sets it up over HTTP (the provider itself is built only then, because
// the client's redirect URI names the Förankra server's port):
//   POST /_test/configure {"clients":[…], "accounts":{"id":{claims}}, "rotate":false}
//     (re)builds the provider. Its signing key is an RSA key made here; with
//     "rotate": true a new key (new kid) signs from then on and the old one stays
//     published beside it, as a provider rotating its keys does.
//   POST /_test/mischief {"idToken": null | "tamper" | "audience" | "nonce"}
//     alters the ID token the token endpoint answers with: "tamper" changes a claim
//     and keeps the signature; "audience" and "nonce" re-sign (with the provider's
//     real key) a token for another client or another sign-in.
//   GET /_test/state → {"kid": current signing key id}
// Users sign in through the provider's own development login page (any password);
// consent is granted automatically for the configured client.
import crypto from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

let issuer;
let provider = null;
let keys = [];
let accounts = {};
let mischief = null;

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
}

function alter(idToken, mode) {
  const [header, payload, signature] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  if (mode === 'tamper') {
    claims.name = 'Mallory';
    return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
  }
  if (mode === 'audience') claims.aud = 'another-client';
  if (mode === 'nonce') claims.nonce = 'another-sign-in';
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const key = crypto.createPrivateKey({ key: keys[0], format: 'jwk' });
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function build(setup) {
  const extraClaims = setup.claims ?? ['org', 'department', 'groups'];
  const p = new Provider(issuer, {
    clients: setup.clients,
    jwks: { keys },
    cookies: { keys: ['forankra-test-provider-cookies'] },
    claims: { openid: ['sub'], profile: ['name', ...extraClaims], email: ['email', 'email_verified'] },
    // Claims in the ID token (as Entra and Keycloak put them), not only at userinfo.
    conformIdTokenClaims: false,
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, ...(accounts[id] ?? {}) }),
    }),
    // Consent without a page: the client is the city's own.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid profile email');
      await grant.save();
      return grant;
    },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  });
  p.use(async (ctx, next) => {
    await next();
    if (mischief && ctx.path === '/token' && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: alter(ctx.body.id_token, mischief) };
    }
  });
  return p;
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
}

async function admin(req, res) {
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'POST' && req.url === '/_test/configure') {
    const setup = await readJson(req);
    keys = setup.rotate && keys.length ? [newKey(), keys[0]] : [newKey()];
    accounts = setup.accounts ?? {};
    mischief = null;
    provider = build(setup);
    return reply(200, { kid: keys[0].kid });
  }
  if (req.method === 'POST' && req.url === '/_test/mischief') {
    mischief = (await readJson(req)).idToken ?? null;
    return reply(200, { mischief });
  }
  if (req.method === 'GET' && req.url === '/_test/state') return reply(200, { kid: keys[0]?.kid ?? null });
  return reply(404, { error: 'no such test route' });
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/_test/')) {
    admin(req, res).catch((e) => {
      res.writeHead(500);
      res.end(String(e));
    });
  } else if (!provider) {
    res.writeHead(503);
    res.end('not configured yet');
  } else {
    provider.callback()(req, res);
  }
});

server.listen(0, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
