// openid-client 5 (the older, still widely used API: Issuer / Client / TokenSet)
// against Gatehouse. openid-client 5 expects RS256 ID tokens unless the client says
// otherwise (OIDC Registration §2), so this client is registered with
// `--id-token-alg RS256` and leaves id_token_signed_response_alg at its default.
import openidClient5 from 'openid-client-5';
import { Browser } from './lib/browser.js';
import { env, expect, installedVersion, jwtHeader, reporter } from './lib/report.js';

const { Issuer, generators } = openidClient5;
const { check, flow, finish } = reporter('openid-client', installedVersion('openid-client-5'));
const user = { username: env('INTEROP_USERNAME'), password: env('INTEROP_PASSWORD') };
const redirectUri = env('OC5_REDIRECT_URI');

await flow('code flow', async () => {
  const issuer = await check('Issuer.discover', () => Issuer.discover(env('INTEROP_ISSUER')));
  const client = new issuer.Client({
    client_id: env('OC5_CLIENT_ID'),
    client_secret: env('OC5_SECRET'),
    redirect_uris: [redirectUri],
    response_types: ['code'],
    // token_endpoint_auth_method defaults to client_secret_basic,
    // id_token_signed_response_alg to RS256.
  });

  const codeVerifier = generators.codeVerifier();
  const state = generators.state();
  const nonce = generators.nonce();
  let tokens = await check('code flow + PKCE, callback() verifies the RS256 ID token', async () => {
    const url = client.authorizationUrl({
      scope: 'openid profile email',
      state,
      nonce,
      code_challenge: generators.codeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    const callback = await new Browser().signIn(url, redirectUri, user);
    // callback() checks state, the `iss` parameter (RFC 9207), and the ID token.
    const tokenSet = await client.callback(redirectUri, client.callbackParams(callback), {
      code_verifier: codeVerifier,
      state,
      nonce,
    });
    const { alg } = jwtHeader(tokenSet.id_token);
    expect(alg === 'RS256', `an RS256 ID token, got ${alg}`);
    return tokenSet;
  });
  const sub = tokens.claims().sub;

  await check('userinfo', async () => {
    const info = await client.userinfo(tokens);
    expect(info.sub === sub, `sub ${sub}, got ${info.sub}`);
    expect(info.email === env('INTEROP_EMAIL'), `email ${env('INTEROP_EMAIL')}, got ${info.email}`);
  });

  tokens = await check('refresh', async () => {
    const next = await client.refresh(tokens);
    expect(next.access_token !== tokens.access_token, 'a new access token');
    expect(next.refresh_token && next.refresh_token !== tokens.refresh_token, 'a rotated refresh token');
    return next;
  });
});

finish();
