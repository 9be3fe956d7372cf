// A minimal stand-in for the user's browser, for the server-side (non-browser) flows.
//
// It follows redirects by hand (fetch with redirect: 'manual'), keeps cookies, and
// fills in Gatehouse's sign-in and consent forms from their hidden inputs. It stops at
// the redirect to the client's redirect_uri and returns that URL without fetching it:
// that is where the relying-party library takes over.

const TIMEOUT_MS = 15_000;

function unescapeHtml(s) {
  return s
    .replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function attributes(tag) {
  const attrs = {};
  for (const [, name, value] of tag.matchAll(/([\w-]+)="([^"]*)"/g)) attrs[name] = unescapeHtml(value);
  return attrs;
}

/** The page's forms: action, and the names and values of their hidden inputs. */
export function parseForms(html) {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map(([, formAttrs, body]) => {
    const hidden = {};
    for (const [tag] of body.matchAll(/<input\b[^>]*>/g)) {
      const a = attributes(tag);
      if (a.type === 'hidden' && a.name) hidden[a.name] = a.value ?? '';
    }
    return { action: attributes(formAttrs).action ?? '', hidden };
  });
}

/** What a page says, for error messages: its heading and any error paragraph. */
function gist(html) {
  const text = (re) => (html.match(re)?.[1] ?? '').replace(/<[^>]+>/g, '').trim();
  return [text(/<h1[^>]*>([\s\S]*?)<\/h1>/), text(/<p class="(?:error|lead)"[^>]*>([\s\S]*?)<\/p>/)]
    .filter(Boolean).join(': ');
}

export class Browser {
  constructor() {
    this.cookies = new Map();
  }

  /** One request, no redirects followed; cookies sent and stored. */
  async request(url, { method = 'GET', form } = {}) {
    const headers = { accept: 'text/html' };
    if (this.cookies.size) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(url, {
      method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /**
   * Follows an authorization URL through sign-in (and consent, when asked) and
   * returns the URL the server redirects to at `redirectUri` (code, state, iss).
   */
  async signIn(authorizationUrl, redirectUri, { username, password }) {
    const target = new URL(redirectUri);
    let url = new URL(authorizationUrl);
    let options = {};
    for (let hop = 0; hop < 20; hop += 1) {
      const res = await this.request(url, options);
      options = {};
      if (res.status >= 300 && res.status < 400) {
        const next = new URL(res.headers.get('location'), url);
        if (next.origin === target.origin && next.pathname === target.pathname) return next.href;
        url = next;
        continue;
      }
      const html = await res.text();
      if (res.status !== 200) {
        throw new Error(`${url.pathname} answered HTTP ${res.status}: ${gist(html) || html.slice(0, 200)}`);
      }
      const form = parseForms(html).find((f) => f.action === '/login' || f.action === '/consent');
      if (form?.action === '/login') {
        // The form shown again means the password was refused: never retry it.
        if (html.includes('id="login-error"')) throw new Error(`sign-in refused: ${gist(html)}`);
        options = { method: 'POST', form: { ...form.hidden, username, password } };
      } else if (form?.action === '/consent') {
        options = { method: 'POST', form: { ...form.hidden, decision: 'allow' } };
      } else {
        throw new Error(`unexpected page at ${url.pathname}: ${gist(html) || html.slice(0, 200)}`);
      }
      url = new URL(form.action, url);
    }
    throw new Error('too many redirects');
  }
}
