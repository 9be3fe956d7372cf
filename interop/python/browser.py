"""A minimal stand-in for the user's browser, for the server-side flows.

It follows redirects by hand (requests with allow_redirects=False), keeps cookies in
the session, and fills in Gatehouse's sign-in and consent forms from their hidden
inputs. It stops at the redirect to the client's redirect_uri and returns that URL
without fetching it: that is where the relying-party library takes over.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

TIMEOUT = 15


class _Forms(HTMLParser):
    """Collects each form's action and hidden inputs, and the page's <h1>."""

    def __init__(self):
        super().__init__()
        self.forms, self.h1, self._in_h1 = [], "", False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "hidden": {}})
        elif tag == "input" and a.get("type") == "hidden" and self.forms and a.get("name"):
            self.forms[-1]["hidden"][a["name"]] = a.get("value") or ""
        elif tag == "h1":
            self._in_h1 = True

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._in_h1:
            self.h1 += data.strip()


class Browser:
    def __init__(self):
        self.session = requests.Session()
        self.session.headers["Accept"] = "text/html"

    def sign_in(self, authorization_url, redirect_uri, username, password):
        """Follows the authorization URL through sign-in (and consent, when asked);
        returns the URL the server redirects to at redirect_uri."""
        target = urlsplit(redirect_uri)
        url, data = authorization_url, None
        for _ in range(20):
            if data is None:
                r = self.session.get(url, allow_redirects=False, timeout=TIMEOUT)
            else:
                r = self.session.post(url, data=data, allow_redirects=False, timeout=TIMEOUT)
            data = None
            if r.is_redirect:
                nxt = urljoin(url, r.headers["Location"])
                n = urlsplit(nxt)
                if (n.scheme, n.netloc, n.path) == (target.scheme, target.netloc, target.path):
                    return nxt
                url = nxt
                continue
            page = _Forms()
            page.feed(r.text)
            if r.status_code != 200:
                raise RuntimeError(f"{urlsplit(url).path} answered HTTP {r.status_code}: {page.h1}")
            form = next((f for f in page.forms if f["action"] in ("/login", "/consent")), None)
            if form is None:
                raise RuntimeError(f"unexpected page at {urlsplit(url).path}: {page.h1}")
            if form["action"] == "/login":
                # The form shown again means the password was refused: never retry it.
                if 'id="login-error"' in r.text:
                    raise RuntimeError("sign-in refused")
                data = {**form["hidden"], "username": username, "password": password}
            else:
                data = {**form["hidden"], "decision": "allow"}
            url = urljoin(url, form["action"])
        raise RuntimeError("too many redirects")
