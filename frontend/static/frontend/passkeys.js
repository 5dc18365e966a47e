// Passkeys (WebAuthn): add one on the security page, sign in (or confirm the session) with one.
// The server makes the options and checks the answers (py_webauthn); this file only carries
// them between the server and navigator.credentials, converting base64url <-> bytes.
(function () {
  function bytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), function (c) { return c.charCodeAt(0); }).buffer;
  }
  function text(buffer) {
    var chars = "";
    new Uint8Array(buffer).forEach(function (b) { chars += String.fromCharCode(b); });
    return btoa(chars).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function csrf() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
        return data;
      });
    });
  }
  function descriptors(list) {
    return (list || []).map(function (item) { return Object.assign({}, item, { id: bytes(item.id) }); });
  }
  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: text(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      authenticatorAttachment: credential.authenticatorAttachment || null,
      response: { clientDataJSON: text(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      out.response.attestationObject = text(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = text(response.authenticatorData);
      out.response.signature = text(response.signature);
      out.response.userHandle = response.userHandle ? text(response.userHandle) : null;
    }
    return out;
  }
  function say(status, message) {
    if (status) status.textContent = message;
  }
  var supported = !!(window.PublicKeyCredential && navigator.credentials);

  var add = document.getElementById("passkey-add");
  if (add) {
    var addStatus = document.getElementById("passkey-add-status");
    if (!supported) {
      say(addStatus, add.dataset.unsupported);
      add.querySelector("button").disabled = true;
    }
    add.addEventListener("submit", function (event) {
      event.preventDefault();
      say(addStatus, add.dataset.working);
      post(add.dataset.optionsUrl)
        .then(function (options) {
          options.challenge = bytes(options.challenge);
          options.user.id = bytes(options.user.id);
          options.excludeCredentials = descriptors(options.excludeCredentials);
          return navigator.credentials.create({ publicKey: options });
        })
        .then(function (credential) {
          return post(add.dataset.addUrl, { name: add.querySelector("[name=name]").value, credential: credentialJSON(credential) });
        })
        .then(function (data) { window.location.assign(data.redirect); })
        .catch(function (error) { say(addStatus, add.dataset.failed + " " + error.message); });
    });
  }

  var use = document.getElementById("passkey-use");
  if (use) {
    var useStatus = document.getElementById("passkey-use-status");
    if (!supported) {
      say(useStatus, use.dataset.unsupported);
      use.disabled = true;
    }
    use.addEventListener("click", function () {
      say(useStatus, use.dataset.working);
      post(use.dataset.optionsUrl)
        .then(function (options) {
          options.challenge = bytes(options.challenge);
          options.allowCredentials = descriptors(options.allowCredentials);
          return navigator.credentials.get({ publicKey: options });
        })
        .then(function (credential) { return post(use.dataset.verifyUrl, { credential: credentialJSON(credential) }); })
        .then(function (data) { window.location.assign(data.redirect); })
        .catch(function (error) { say(useStatus, use.dataset.failed + " " + error.message); });
    });
  }
})();
