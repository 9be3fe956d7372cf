// oidc-client-ts in a real browser: serves the small SPA in spa/ on its own origin
// (http://127.0.0.1:$SPA_PORT) and drives headless Chromium through it with
// playwright-core, the way a person would: Sign in → Gatehouse's login page →
// consent → back at the app; then a silent renew (refresh token) and sign-out.
//
// Chromium is Debian's (/usr/bin/chromium, or $CHROMIUM): playwright-core never
// downloads a browser.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { env, expect, installedVersion, reporter } from './lib/report.js';

const { check, flow, finish } = reporter('oidc-client-ts', installedVersion('oidc-client-ts'));
const issuer = env('INTEROP_ISSUER');
const spaPort = Number(env('SPA_PORT'));
const spa = `http://127.0.0.1:${spaPort}`;

// --- the app's static files -----------------------------------------------------------
const files = {
  '/': ['spa/index.html', 'text/html'],
  '/index.html': ['spa/index.html', 'text/html'],
  '/callback.html': ['spa/callback.html', 'text/html'],
  '/signed-out.html': ['spa/signed-out.html', 'text/html'],
  '/app.js': ['spa/app.js', 'text/javascript'],
  '/oidc-client-ts.min.js': ['node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js', 'text/javascript'],
};
// The app reads its settings (issuer, client_id) from /config.js.
const config = `window.INTEROP = ${JSON.stringify({ issuer, clientId: env('SPA_CLIENT_ID') })};`;

async function serveApp() {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, spa).pathname;
    if (path === '/config.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(config);
      return;
    }
    const file = files[path];
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file[1] }).end(await readFile(new URL(file[0], import.meta.url)));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(spaPort, '127.0.0.1', resolve);
  });
  return server;
}

// --- the browser ----------------------------------------------------------------------
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
let page;
// Errors the page logs (CORS refusals show up here) are added to a failure's message.
const consoleErrors = [];
const tokenRequests = [];

async function openPage(browser) {
  page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  page.on('request', (req) => {
    if (req.url() === `${issuer}/token` && req.method() === 'POST') {
      tokenRequests.push(new URLSearchParams(req.postData() ?? '').get('grant_type'));
    }
  });
}

/** Waits for the app's status line; an app error fails the step with its text. */
async function appStatus(expected) {
  await page.waitForFunction(() => document.getElementById('status')?.textContent !== 'loading');
  const status = await page.textContent('#status');
  const error = await page.textContent('#error');
  if (status !== expected) {
    throw new Error(`app status "${status}" at ${page.url()}: ${error} ${consoleErrors.join(' | ')}`);
  }
}

/** Gatehouse's page at `path`; a different page fails with what it says. */
async function gatehousePage(path) {
  try {
    await page.waitForURL((url) => url.origin === issuer && url.pathname === path);
  } catch {
    const h1 = await page.textContent('h1').catch(() => '');
    throw new Error(`expected ${path}, at ${page.url()} ("${h1}") ${consoleErrors.join(' | ')}`);
  }
}

let server;
let browser;
try {
  await flow('browser', async () => {
    server = await check(`serve the app on ${spa}`, serveApp);
    browser = await check(`launch ${executablePath}`, () => chromium.launch({
      executablePath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }));
    await openPage(browser);
    await check('app loads (oidc-client-ts bundle, config)', async () => {
      await page.goto(`${spa}/`);
      await appStatus('signed out');
    });
    await check('signinRedirect → login page', async () => {
      await page.click('#sign-in');
      await gatehousePage('/login');
    });
    await check('login form', async () => {
      await page.fill('#username', env('INTEROP_USERNAME'));
      await page.fill('#password', env('INTEROP_PASSWORD'));
      await page.click('button[type=submit]');
      await gatehousePage('/consent');
    });
    const profile = await check('consent (Allow) → signinRedirectCallback', async () => {
      await page.click('button[name=decision][value=allow]');
      await page.waitForURL((url) => url.origin === spa && url.pathname === '/callback.html');
      await appStatus('signed in');
      return JSON.parse(await page.textContent('#profile'));
    });
    await check('profile (sub, email)', () => {
      expect(/^[0-9a-f-]{36}$/.test(profile.sub ?? ''), `a sub, got ${profile.sub}`);
      expect(profile.email === env('INTEROP_EMAIL'), `email ${env('INTEROP_EMAIL')}, got ${profile.email} in ${JSON.stringify(profile)}`);
    });
    await check('signinSilent with the refresh token', async () => {
      const { before, after } = await page.evaluate(async () => {
        const old = await window.app.manager.getUser();
        const renewed = await window.app.manager.signinSilent();
        return { before: old.access_token, after: renewed.access_token };
      });
      expect(after && after !== before, 'a new access token');
      expect(tokenRequests.at(-1) === 'refresh_token', `a refresh_token grant, saw ${tokenRequests.join(', ')}`);
    });
    await check('signoutRedirect → post_logout_redirect_uri', async () => {
      // Not awaited inside the page: the navigation it starts ends the page's context.
      await page.evaluate(() => { window.app.manager.signoutRedirect(); });
      await page.waitForURL((url) => url.origin === spa && url.pathname === '/signed-out.html').catch(async () => {
        const h1 = await page.textContent('h1').catch(() => '');
        throw new Error(`not back at the app: at ${page.url()} ("${h1}")`);
      });
      await appStatus('signed out');
    });
  });
} finally {
  await browser?.close();
  server?.close();
}

finish();
