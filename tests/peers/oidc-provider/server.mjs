// An independent OpenID Connect provider for Reconnect's end-to-end tests:
// panva's oidc-provider with the device authorization grant (RFC 8628), the
// authorization code grant with PKCE, and rotating refresh tokens for one
// public native client. Everything lives in memory and ends with the process.
//
//   node server.mjs [--port N]      (or OIDC_PEER_PORT=N; 0, the default, = any free port)
//
// Listens on 127.0.0.1 only and prints one line once it accepts requests:
//
//   ready http://127.0.0.1:PORT
//
// which is also the issuer. Sign-in uses oidc-provider's development
// interactions: any login name with any password is accepted (the subject is
// the login name), and the consent page grants what the client asked for,
// offline_access included, so every device or code grant with offline_access
// gets a refresh token.
//
// Settings (environment):
//   OIDC_PEER_CLIENT_ID        the client's id (default reconnect-e2e)
//   OIDC_PEER_ACCESS_TTL       access token lifetime in seconds (default 300)
//   OIDC_PEER_DEVICE_TTL       device code lifetime in seconds (default 600)
//   OIDC_PEER_INTERVAL         polling interval announced with a device code (default 1)
//
// Test-only control routes (loopback, no auth):
//   GET  /_peer/grants                   every token endpoint grant so far: grant_type, what was issued, scope
//   GET  /_peer/accounts                 every account seen so far and its claims
//   PUT  /_peer/accounts/:login          JSON claims merged into that account's claims
//   POST /_peer/accounts/:login/disable  the account is gone: its refresh tokens stop working

import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

function option(flag, env, fallback) {
  const at = process.argv.indexOf(flag);
  if (at !== -1 && process.argv[at + 1] !== undefined) return process.argv[at + 1];
  const inline = process.argv.find((a) => a.startsWith(`${flag}=`));
  if (inline) return inline.slice(flag.length + 1);
  return process.env[env] ?? fallback;
}

const port = Number(option('--port', 'OIDC_PEER_PORT', '0'));
const clientId = process.env.OIDC_PEER_CLIENT_ID || 'reconnect-e2e';
const accessTtl = Number(process.env.OIDC_PEER_ACCESS_TTL || 300);
const deviceTtl = Number(process.env.OIDC_PEER_DEVICE_TTL || 600);
const interval = Number(process.env.OIDC_PEER_INTERVAL || 1);

// The adjustable account store: any login name signs in; its subject is the
// login name. Claims can be changed and accounts disabled through /_peer/.
const accounts = new Map();
// Every successful token endpoint grant, in order (what was issued, not the tokens).
const grants = [];
function account(login) {
  if (!accounts.has(login)) {
    accounts.set(login, {
      disabled: false,
      claims: { name: login, preferred_username: login, email: login.includes('@') ? login : undefined },
    });
  }
  return accounts.get(login);
}

async function findAccount(_ctx, sub) {
  const entry = account(sub);
  if (entry.disabled) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { ...entry.claims, sub };
    },
  };
}

// One RS256 signing key per run; clients verify id_tokens with the JWKS.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `peer-${randomBytes(4).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

function configuration() {
  return {
    clients: [
      {
        client_id: clientId,
        client_name: 'Reconnect end-to-end tests',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: [
          'authorization_code',
          'refresh_token',
          'urn:ietf:params:oauth:grant-type:device_code',
        ],
        response_types: ['code'],
        // A native client's loopback redirect URIs match on any port (RFC 8252 7.3).
        redirect_uris: ['http://127.0.0.1/', 'http://127.0.0.1/callback', 'http://localhost/', 'http://localhost/callback'],
        id_token_signed_response_alg: 'RS256',
      },
      {
        // The same, minus the refresh_token grant: never given a refresh token.
        client_id: `${clientId}-no-refresh`,
        client_name: 'Reconnect end-to-end tests (no refresh tokens)',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/', 'http://localhost/'],
        id_token_signed_response_alg: 'RS256',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount,
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
    },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    pkce: { methods: ['S256'], required: () => true },
    // Refresh tokens for any grant that consented to offline_access (the
    // library's own rule, spelled out): device code and authorization code alike.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // Public clients get a new refresh token on every refresh; the old one is spent.
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: accessTtl,
      AuthorizationCode: 60,
      DeviceCode: deviceTtl,
      IdToken: 3600,
      Grant: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      const rows = Object.entries(out)
        .map(([k, v]) => `<dt>${k}</dt><dd data-field="${k}">${String(v).replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</dd>`)
        .join('');
      ctx.body = `<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body><h1>oops! something went wrong</h1><dl id="error">${rows}</dl></body></html>`;
    },
  };
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      text += chunk;
      if (text.length > 65536) reject(new Error('body too large'));
    });
    req.on('end', () => {
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

async function control(ctx, next) {
  if (!ctx.path.startsWith('/_peer/')) return next();
  const parts = ctx.path.split('/').slice(2).map(decodeURIComponent);
  if (ctx.method === 'GET' && parts.length === 1 && parts[0] === 'grants') {
    ctx.body = grants;
    return undefined;
  }
  if (parts[0] !== 'accounts') ctx.throw(404);
  if (ctx.method === 'GET' && parts.length === 1) {
    ctx.body = Object.fromEntries(accounts);
    return undefined;
  }
  const login = parts[1];
  if (!login) ctx.throw(404);
  if (ctx.method === 'PUT' && parts.length === 2) {
    Object.assign(account(login).claims, await readJson(ctx.req));
    ctx.body = account(login);
    return undefined;
  }
  if (ctx.method === 'POST' && parts[2] === 'disable') {
    account(login).disabled = true;
    ctx.body = account(login);
    return undefined;
  }
  ctx.throw(404);
  return undefined;
}

// RFC 8628 lets the server say how often to poll; oidc-provider leaves it
// out (clients then wait 5 s), so the test peer announces a short one.
async function announceInterval(ctx, next) {
  await next();
  if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
    ctx.body = { ...ctx.body, interval };
  }
}

async function main() {
  // The issuer needs the port, which is only known once listening: bind
  // first, then attach the provider's handler.
  const { createServer } = await import('node:http');
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration());
  provider.use(control);
  provider.use(announceInterval);
  for (const event of ['server_error', 'grant.error', 'refresh_token.error', 'device_authorization.error', 'code_verification.error']) {
    provider.on(event, (_ctx, err) => {
      process.stderr.write(`oidc-peer ${event}: ${err?.message ?? err}${err?.error_detail ? ` (${err.error_detail})` : ''}\n`);
    });
  }
  // What each grant gave (never the tokens themselves), for test messages
  // and GET /_peer/grants.
  provider.on('grant.success', (ctx) => {
    const body = ctx.body ?? {};
    const what = ['access_token', 'refresh_token', 'id_token'].filter((k) => body[k]).join(' ');
    grants.push({ grant_type: ctx.oidc.params.grant_type, issued: what.split(' '), scope: body.scope ?? '' });
    process.stderr.write(`oidc-peer grant.success: ${ctx.oidc.params.grant_type} -> ${what}; scope "${body.scope ?? ''}"\n`);
  });
  server.on('request', provider.callback());
  process.stdout.write(`ready ${issuer}\n`);

  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The test that started us is gone when our stdin closes.
  if (process.env.OIDC_PEER_EXIT_ON_STDIN_EOF === '1') {
    process.stdin.resume();
    process.stdin.on('end', stop);
  }
}

main().catch((e) => {
  process.stderr.write(`oidc-peer: ${e.stack ?? e}\n`);
  process.exit(1);
});
