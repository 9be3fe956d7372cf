// openid-client 6 (panva) against Gatehouse: a confidential client with
// client_secret_basic and one with client_secret_post, a public client (PKCE only),
// and a service client with client_credentials.
//
// Run by interop/run, which starts Gatehouse and registers the clients; the
// environment variables below say which (see interop/README.md).
import * as client from 'openid-client';
import { Browser } from './lib/browser.js';
import { env, expect, installedVersion, jwtHeader, jwtPayload, reporter } from './lib/report.js';

const { check, flow, finish } = reporter('openid-client', installedVersion('openid-client'));
const issuer = new URL(env('INTEROP_ISSUER'));
const user = { username: env('INTEROP_USERNAME'), password: env('INTEROP_PASSWORD') };
const email = env('INTEROP_EMAIL');

// The issuer is plain http on loopback here; openid-client refuses http unless told.
const insecure = { execute: [client.allowInsecureRequests] };

/** Discovery: fetches /.well-known/openid-configuration and checks its issuer. */
function discover(clientId, secret, auth) {
  return client.discovery(issuer, clientId, secret ? { client_secret: secret } : {}, auth, insecure);
}

/**
 * The authorization code flow with PKCE and a nonce; returns the token response,
 * whose ID token the library has verified (signature from jwks_uri, iss, aud, exp,
 * nonce) and whose authorization response `iss` it has checked (RFC 9207).
 */
async function signIn(config, redirectUri, browser, scope = 'openid profile email') {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  const callback = await browser.signIn(url, redirectUri, user);
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  expect(claims.iss === issuer.href.replace(/\/$/, ''), `iss ${issuer}, got ${claims.iss}`);
  // ES256 is Gatehouse's default; the library takes the algorithm from discovery.
  expect(jwtHeader(tokens.id_token).alg === 'ES256', `an ES256 ID token, got ${jwtHeader(tokens.id_token).alg}`);
  expect(tokens.refresh_token, 'a refresh token');
  return tokens;
}

/** A refresh; Gatehouse rotates the refresh token on every use. */
async function refresh(config, tokens) {
  const next = await client.refreshTokenGrant(config, tokens.refresh_token);
  expect(next.access_token && next.access_token !== tokens.access_token, 'a new access token');
  expect(next.refresh_token && next.refresh_token !== tokens.refresh_token, 'a rotated refresh token');
  return next;
}

await flow('client_secret_basic', async () => {
  const config = await check('discovery (client_secret_basic)', () =>
    discover(env('OC6_BASIC_CLIENT_ID'), env('OC6_BASIC_SECRET'), client.ClientSecretBasic(env('OC6_BASIC_SECRET'))));
  const redirectUri = env('OC6_BASIC_REDIRECT_URI');
  const browser = new Browser();
  let tokens = await check('code flow + PKCE, client_secret_basic, ID token verified', () =>
    signIn(config, redirectUri, browser));
  const sub = tokens.claims().sub;
  await check('userinfo (fetchUserInfo)', async () => {
    const info = await client.fetchUserInfo(config, tokens.access_token, sub); // checks sub
    expect(info.email === email, `email ${email}, got ${info.email}`);
  });
  tokens = await check('refresh #1', () => refresh(config, tokens));
  tokens = await check('refresh #2', () => refresh(config, tokens));
  await check('userinfo with the refreshed access token', () =>
    client.fetchUserInfo(config, tokens.access_token, sub));
  await check('introspection: active', async () => {
    const info = await client.tokenIntrospection(config, tokens.access_token);
    expect(info.active === true, `active: true, got ${JSON.stringify(info)}`);
    expect(info.sub === sub, `sub ${sub}, got ${info.sub}`);
  });
  await check('revocation (refresh token)', () => client.tokenRevocation(config, tokens.refresh_token));
  await check('introspection after revocation: inactive', async () => {
    // Revoking the refresh token ends its grant, and with it the access token.
    for (const [kind, token] of [['refresh token', tokens.refresh_token], ['access token', tokens.access_token]]) {
      const info = await client.tokenIntrospection(config, token);
      expect(info.active === false, `${kind} active: false, got ${JSON.stringify(info)}`);
    }
  });
  await check('end session (buildEndSessionUrl)', async () => {
    const postLogout = env('OC6_BASIC_POST_LOGOUT_REDIRECT_URI');
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: postLogout,
      state: 'bye',
    });
    // With the browser's session cookie and a hint naming its user, Gatehouse signs
    // out at once and returns to the registered address; a confirm page is fine too.
    const res = await browser.request(url);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400) {
      const back = new URL(location, url);
      expect(back.href.startsWith(postLogout), `a redirect to ${postLogout}, got ${location}`);
      expect(back.searchParams.get('state') === 'bye', `state=bye in ${location}`);
    } else {
      expect(res.status === 200, `200 or a redirect, got HTTP ${res.status}`);
    }
  });
});

await flow('client_secret_post', async () => {
  const secret = env('OC6_POST_SECRET');
  const config = await check('discovery (client_secret_post)', () =>
    discover(env('OC6_POST_CLIENT_ID'), secret, client.ClientSecretPost(secret)));
  // This client is asked for consent (the browser helper clicks Allow).
  let tokens = await check('code flow + PKCE + consent, client_secret_post, ID token verified', () =>
    signIn(config, env('OC6_POST_REDIRECT_URI'), new Browser()));
  tokens = await check('refresh (client_secret_post)', () => refresh(config, tokens));
  await check('client_secret_basic refused for a client_secret_post client', async () => {
    const basic = await discover(env('OC6_POST_CLIENT_ID'), secret, client.ClientSecretBasic(secret));
    try {
      await client.refreshTokenGrant(basic, tokens.refresh_token);
    } catch (err) {
      // RFC 6749 §5.2: 401 invalid_client, with a WWW-Authenticate challenge when the
      // client tried the Authorization header (openid-client then throws
      // WWWAuthenticateChallengeError, whose response body is still unread).
      const body = err.response && !err.response.bodyUsed ? await err.response.json() : err;
      expect(body.error === 'invalid_client', `invalid_client, got ${body.error ?? err.message}`);
      expect(err.status === 401, `HTTP 401, got ${err.status}`);
      return;
    }
    throw new Error('the token endpoint accepted an unregistered authentication method');
  });
});

await flow('public client', async () => {
  const config = await check('discovery (public client, None)', () =>
    discover(env('OC6_PUBLIC_CLIENT_ID'), null, client.None()));
  // Registered as http://127.0.0.1/callback: a native app may listen on any port
  // (RFC 8252 §7.3), so pick one here.
  const port = 49152 + Math.floor(Math.random() * 16000);
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  let tokens = await check(`code flow + PKCE, public client, loopback redirect on port ${port}`, () =>
    signIn(config, redirectUri, new Browser()));
  tokens = await check('refresh (public client)', () => refresh(config, tokens));
});

await flow('client_credentials', async () => {
  const secret = env('OC6_SERVICE_SECRET');
  const config = await check('discovery (service client)', () =>
    discover(env('OC6_SERVICE_CLIENT_ID'), secret, client.ClientSecretBasic(secret)));
  await check('client_credentials without scope gets the registered scopes', async () => {
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.scope === 'api.read', `scope "api.read", got ${JSON.stringify(tokens.scope)}`);
    const claims = jwtPayload(tokens.access_token);
    expect(claims.scope === 'api.read', `access token scope "api.read", got ${JSON.stringify(claims.scope)}`);
    expect(claims.sub === env('OC6_SERVICE_CLIENT_ID'), `sub = client_id, got ${claims.sub}`);
  });
});

finish();
