// Passkeys (WebAuthn): runs the ceremony of each form[data-passkey] and posts
// the authenticator's answer in the form's "credential" field. The server keeps
// the ceremony's state; this script only carries the options and the answer.
// Without WebAuthn support the forms stay hidden and the password form works.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function decode(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function encode(buffer) {
    if (!buffer) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function ids(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: decode(c.id) });
    });
  }

  // The server's options (WebAuthn JSON, base64url binaries) as the API takes them.
  function creationOptions(form) {
    var o = JSON.parse(form.dataset.passkeyOptions).publicKey;
    o.challenge = decode(o.challenge);
    o.user.id = decode(o.user.id);
    o.excludeCredentials = ids(o.excludeCredentials);
    return o;
  }

  function requestOptions(form) {
    var o = JSON.parse(form.dataset.passkeyOptions).publicKey;
    o.challenge = decode(o.challenge);
    o.allowCredentials = ids(o.allowCredentials);
    return o;
  }

  function answer(credential) {
    var r = credential.response;
    var json = {
      id: credential.id,
      rawId: encode(credential.rawId),
      type: credential.type,
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: encode(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      json.response.attestationObject = encode(r.attestationObject);
      if (r.getTransports) {
        json.response.transports = r.getTransports();
      }
    } else {
      json.response.authenticatorData = encode(r.authenticatorData);
      json.response.signature = encode(r.signature);
      json.response.userHandle = encode(r.userHandle);
    }
    return JSON.stringify(json);
  }

  function send(form, credential) {
    form.elements.credential.value = answer(credential);
    form.submit();
  }

  function showError(form, message) {
    var box = form.querySelector("[data-passkey-error]");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
  }

  // The pending autofill request, aborted before a modal one starts.
  var autofill = null;

  function run(form) {
    if (autofill) {
      autofill.abort();
      autofill = null;
    }
    var button = form.querySelector("button");
    if (button) {
      button.disabled = true;
    }
    var request = form.dataset.passkey === "create"
      ? navigator.credentials.create({ publicKey: creationOptions(form) })
      : navigator.credentials.get({ publicKey: requestOptions(form) });
    request.then(function (credential) {
      if (credential) {
        send(form, credential);
      }
    }).catch(function (error) {
      if (button) {
        button.disabled = false;
      }
      var message = error && error.name === "InvalidStateError"
        ? "This device already has a passkey for your account."
        : "The passkey was not used. Try again, or use another way to sign in.";
      showError(form, message);
    });
  }

  function startAutofill(form) {
    if (!PublicKeyCredential.isConditionalMediationAvailable) {
      return;
    }
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available) {
        return;
      }
      autofill = new AbortController();
      navigator.credentials.get({
        publicKey: requestOptions(form),
        mediation: "conditional",
        signal: autofill.signal
      }).then(function (credential) {
        if (credential) {
          send(form, credential);
        }
      }).catch(function () {
        // Aborted for the button, or dismissed: nothing to say.
      });
    });
  }

  document.querySelectorAll("[data-passkey-shown]").forEach(function (el) {
    el.hidden = false;
  });
  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run(form);
    });
    if (form.hasAttribute("data-passkey-autofill")) {
      startAutofill(form);
    }
  });
})();
