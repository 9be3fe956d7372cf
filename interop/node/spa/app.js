// A tiny single-page app signing in with oidc-client-ts: authorization code + PKCE
// as a public client (no secret in the browser), tokens fetched cross-origin from
// Gatehouse's token endpoint (CORS), refresh with the refresh token, and sign-out.
/* global oidc, INTEROP */

const manager = new oidc.UserManager({
  authority: INTEROP.issuer, // discovery: <issuer>/.well-known/openid-configuration
  client_id: INTEROP.clientId,
  redirect_uri: `${location.origin}/callback.html`,
  post_logout_redirect_uri: `${location.origin}/signed-out.html`,
  response_type: 'code', // PKCE (S256) is always used
  scope: 'openid profile email',
  // The ID token carries only who signed in; email and name come from the userinfo
  // endpoint (OIDC Core §5.4), which oidc-client-ts merges into user.profile.
  loadUserInfo: true,
  automaticSilentRenew: false, // renewed on demand below, to keep the test deterministic
});

const show = (id, text) => { document.getElementById(id).textContent = text; };

async function main() {
  switch (location.pathname) {
    case '/callback.html': {
      // Exchanges the code (with the PKCE verifier kept in storage) and verifies
      // the response; the ID token's claims become user.profile.
      const user = await manager.signinRedirectCallback();
      show('profile', JSON.stringify(user.profile));
      show('status', 'signed in');
      break;
    }
    case '/signed-out.html':
      await manager.signoutRedirectCallback(); // checks the returned state
      await manager.removeUser();
      show('status', 'signed out');
      break;
    default:
      document.getElementById('sign-in').onclick = () => manager.signinRedirect();
      show('status', (await manager.getUser()) ? 'signed in' : 'signed out');
  }
}

// For the test driver (and the curious, in the console).
window.app = { manager, ready: main().catch((err) => { show('error', String(err)); show('status', 'error'); }) };
