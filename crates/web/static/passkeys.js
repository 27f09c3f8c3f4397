// Passkey ceremonies: the server's options go to the device, the device's answer goes back.
// Buttons carry data-passkey (register, sign-in or second-step), where to start and finish,
// and where to show a problem; the fields of the button's form travel with both requests.
(function () {
  'use strict';
  function toBuffer(text) {
    var s = text.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) { s += '='; }
    var raw = atob(s), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer), s = '';
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function post(url, fields) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json' },
      body: new URLSearchParams(fields)
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) { throw new Error(body.error || 'Something went wrong. Please try again.'); }
        return body;
      });
    });
  }
  function creation(options) {
    var o = options.publicKey;
    o.challenge = toBuffer(o.challenge);
    o.user.id = toBuffer(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return options;
  }
  function request(options) {
    var o = options.publicKey;
    o.challenge = toBuffer(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return options;
  }
  function created(c) {
    return JSON.stringify({
      id: c.id, rawId: toText(c.rawId), type: c.type, extensions: c.getClientExtensionResults(),
      response: {
        attestationObject: toText(c.response.attestationObject),
        clientDataJSON: toText(c.response.clientDataJSON),
        transports: c.response.getTransports ? c.response.getTransports() : []
      }
    });
  }
  function asserted(c) {
    return JSON.stringify({
      id: c.id, rawId: toText(c.rawId), type: c.type, extensions: c.getClientExtensionResults(),
      response: {
        authenticatorData: toText(c.response.authenticatorData),
        clientDataJSON: toText(c.response.clientDataJSON),
        signature: toText(c.response.signature),
        userHandle: c.response.userHandle ? toText(c.response.userHandle) : null
      }
    });
  }
  if (!window.PublicKeyCredential || !navigator.credentials) { return; }
  document.querySelectorAll('button[data-passkey]').forEach(function (button) {
    var status = document.getElementById(button.getAttribute('data-status'));
    button.hidden = false;
    button.addEventListener('click', function () {
      var fields = {};
      new FormData(button.form).forEach(function (value, key) { fields[key] = value; });
      var register = button.getAttribute('data-passkey') === 'register';
      button.disabled = true;
      post(button.getAttribute('data-start'), fields).then(function (start) {
        var device = register
          ? navigator.credentials.create(creation(start.options)).then(created)
          : navigator.credentials.get(request(start.options)).then(asserted);
        return device.then(function (answer) {
          fields.ceremony = start.ceremony;
          fields.credential = answer;
          return post(button.getAttribute('data-finish'), fields);
        });
      }).then(function (done) {
        window.location.assign(done.redirect);
      }).catch(function (problem) {
        button.disabled = false;
        if (status) {
          status.textContent = problem.name === 'NotAllowedError'
            ? 'The passkey was not used. Try again when you are ready.'
            : problem.message;
          status.hidden = false;
        }
      });
    });
  });
}());
