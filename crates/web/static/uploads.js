// The files page's uploads: files chosen or dropped on the form go up one after another as
// resumable uploads (tus 1.0), each with its own progress bar. Each file is sent in one
// request; if the connection drops, the server keeps what arrived and the rest is sent from
// where the server says the file got to. Choosing the same file again, in this tab or
// another, goes on from there too. Without this script the form uploads in one request.
(function () {
  'use strict';
  var form = document.getElementById('upload-form');
  if (!form || !window.XMLHttpRequest || !window.Blob || !window.localStorage) { return; }
  var input = form.querySelector('input[type="file"]');
  var list = document.getElementById('upload-progress');
  var csrf = form.querySelector('input[name="csrf"]').value;
  var endpoint = form.getAttribute('data-tus');
  var client = form.getAttribute('data-client') || '';
  var folder = form.getAttribute('data-folder') || '';
  var done = form.getAttribute('data-done');
  var busy = false;

  function b64(text) {
    var bytes = new TextEncoder().encode(text);
    var s = '';
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s);
  }

  function remembered(file) {
    return 'portico-upload:' + [endpoint, client, folder, file.name, file.size, file.lastModified].join('|');
  }

  // One request; resolves with the finished request whatever its status, rejects when the
  // connection fails.
  function send(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader('Tus-Resumable', '1.0.0');
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      if (onProgress && xhr.upload) {
        xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      }
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = function () { reject(new Error('network')); };
      xhr.ontimeout = xhr.onerror;
      xhr.send(body || null);
    });
  }

  // The sentence of an error page, or a plain one.
  function reason(xhr) {
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, 'text/html');
      var p = doc.querySelector('h1 + p');
      if (p && p.textContent.trim()) { return p.textContent.trim(); }
    } catch (e) { /* fall through */ }
    return 'The upload was refused (error ' + xhr.status + ').';
  }

  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function row(file) {
    var li = document.createElement('li');
    var name = document.createElement('span');
    name.textContent = file.name;
    var bar = document.createElement('progress');
    bar.max = Math.max(file.size, 1);
    bar.value = 0;
    bar.setAttribute('aria-label', 'Progress of ' + file.name);
    var status = document.createElement('span');
    status.className = 'muted';
    status.textContent = 'waiting';
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(status);
    list.appendChild(li);
    return { bar: bar, status: status, li: li };
  }

  async function where(url) {
    var xhr = await send('HEAD', url, {});
    if (xhr.status !== 200) { return null; }
    return parseInt(xhr.getResponseHeader('Upload-Offset'), 10);
  }

  async function upload(file, ui) {
    var key = remembered(file);
    var url = localStorage.getItem(key);
    var offset = null;
    if (url) {
      try { offset = await where(url); } catch (e) { offset = null; }
      if (offset === null) { localStorage.removeItem(key); url = null; }
    }
    if (!url) {
      var meta = 'filename ' + b64(file.name);
      if (client) { meta += ',client ' + b64(client); }
      if (folder) { meta += ',folder ' + b64(folder); }
      var made = await send('POST', endpoint, { 'Upload-Length': String(file.size), 'Upload-Metadata': meta });
      if (made.status !== 201) { throw new Error(reason(made)); }
      url = made.getResponseHeader('Location');
      localStorage.setItem(key, url);
      offset = 0;
    }
    var failures = 0;
    for (;;) {
      ui.bar.value = offset;
      ui.status.textContent = Math.floor(100 * offset / Math.max(file.size, 1)) + '%';
      var xhr;
      try {
        xhr = await send('PATCH', url, {
          'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream'
        }, file.slice(offset), function (n) {
          ui.bar.value = offset + n;
          ui.status.textContent = Math.floor(100 * (offset + n) / Math.max(file.size, 1)) + '%';
        });
      } catch (e) {
        failures += 1;
        ui.status.textContent = 'connection lost; trying again…';
        await wait(Math.min(30000, 1000 * Math.pow(2, Math.min(failures, 5))));
        try { offset = await where(url); } catch (e2) { /* still offline: try again */ }
        if (offset === null) { throw new Error('The upload expired. Choose the file again.'); }
        continue;
      }
      failures = 0;
      if (xhr.status === 204 || xhr.status === 409) {
        var now = parseInt(xhr.getResponseHeader('Upload-Offset'), 10);
        if (!isNaN(now)) { offset = now; } else { offset = await where(url); }
        if (xhr.status === 204 && offset >= file.size) { break; }
        if (offset === null) { throw new Error('The upload expired. Choose the file again.'); }
        continue;
      }
      localStorage.removeItem(key);
      throw new Error(reason(xhr));
    }
    localStorage.removeItem(key);
    ui.bar.value = ui.bar.max;
    ui.status.textContent = 'uploaded';
  }

  async function all(files) {
    if (busy || !files.length) { return; }
    busy = true;
    form.classList.add('uploading');
    var rows = Array.prototype.map.call(files, row);
    var ok = 0;
    for (var i = 0; i < files.length; i++) {
      rows[i].status.textContent = 'starting';
      try {
        await upload(files[i], rows[i]);
        ok += 1;
      } catch (e) {
        rows[i].status.textContent = e.message;
        rows[i].li.className = 'error';
      }
    }
    busy = false;
    form.classList.remove('uploading');
    if (ok === files.length && done) { window.location.assign(done); }
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    all(input.files);
  });
  form.addEventListener('dragover', function (e) {
    e.preventDefault();
    form.classList.add('dropping');
  });
  form.addEventListener('dragleave', function () { form.classList.remove('dropping'); });
  form.addEventListener('drop', function (e) {
    e.preventDefault();
    form.classList.remove('dropping');
    if (e.dataTransfer && e.dataTransfer.files) { all(e.dataTransfer.files); }
  });
  window.addEventListener('beforeunload', function (e) {
    if (busy) { e.preventDefault(); e.returnValue = ''; }
  });
  var hint = form.querySelector('[data-drop-hint]');
  if (hint) { hint.hidden = false; }
})();
