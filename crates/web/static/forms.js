// Form pages: questions that depend on an answer on the same page appear and disappear with
// it, answers save themselves a moment after typing stops, and a signature can be drawn.
// Without this script the page still works: every question shows, and the buttons save.
(function () {
  'use strict';
  var form = document.querySelector('form[data-autosave]');
  if (!form) { return; }
  var status = form.querySelector('[data-save-status]');
  var rev = form.querySelector('input[name="rev"]');

  function answerIs(name, value) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.type === 'radio' || el.type === 'checkbox') {
        if (el.checked && el.value === value) { return true; }
      } else if (el.value.trim() === value) {
        return true;
      }
    }
    return false;
  }

  function conditions() {
    var shown = form.querySelectorAll('[data-show-if]');
    for (var i = 0; i < shown.length; i++) {
      var q = shown[i];
      q.hidden = !answerIs(q.getAttribute('data-show-if'), q.getAttribute('data-equals'));
      var hint = q.querySelector('.cond-hint');
      if (hint) { hint.hidden = true; }
    }
  }

  var timer = null;
  var saving = false;
  var again = false;

  function say(text) { if (status) { status.textContent = text; } }

  function save() {
    if (saving) { again = true; return; }
    saving = true;
    var body = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (typeof value === 'string') { body.append(key, value); }
    });
    fetch(form.action, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-Autosave': '1', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: body.toString()
    }).then(function (res) {
      return res.json().then(function (data) { return { ok: res.ok, data: data }; });
    }).then(function (r) {
      if (r.ok) {
        rev.value = r.data.rev;
        say('Saved at ' + new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) + '.');
      } else {
        say(r.data.error || 'Your answers could not be saved. Use the buttons below to save.');
      }
    }).catch(function () {
      say('Your answers could not be saved just now (no connection?). They are still on this page.');
    }).then(function () {
      saving = false;
      if (again) { again = false; save(); }
    });
  }

  function changed() {
    conditions();
    say('Saving…');
    clearTimeout(timer);
    timer = setTimeout(save, 1200);
  }

  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  form.addEventListener('submit', function () { clearTimeout(timer); });
  conditions();

  // Drawing a signature: a canvas whose picture goes into the hidden input as a PNG.
  var pads = form.querySelectorAll('input[data-signature-pad]');
  for (var i = 0; i < pads.length; i++) {
    (function (input) {
      var canvas = document.createElement('canvas');
      canvas.width = 320;
      canvas.height = 120;
      canvas.className = 'signature-pad';
      canvas.setAttribute('aria-label', 'Draw your signature (optional)');
      var clear = document.createElement('button');
      clear.type = 'button';
      clear.className = 'link';
      clear.textContent = input.value ? 'Clear the drawn signature' : 'Clear';
      input.parentNode.insertBefore(canvas, input);
      input.parentNode.insertBefore(clear, input);
      var ctx = canvas.getContext('2d');
      ctx.lineWidth = 2;
      ctx.lineCap = 'round';
      var drawing = false;
      function at(e) {
        var r = canvas.getBoundingClientRect();
        return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
      }
      canvas.addEventListener('pointerdown', function (e) {
        drawing = true;
        var p = at(e);
        ctx.beginPath();
        ctx.moveTo(p[0], p[1]);
        try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* not a real pointer */ }
      });
      canvas.addEventListener('pointermove', function (e) {
        if (!drawing) { return; }
        var p = at(e);
        ctx.lineTo(p[0], p[1]);
        ctx.stroke();
      });
      canvas.addEventListener('pointerup', function () {
        drawing = false;
        input.value = canvas.toDataURL('image/png');
        changed();
      });
      clear.addEventListener('click', function () {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        input.value = '';
        clear.textContent = 'Clear';
        changed();
      });
    }(pads[i]));
  }
}());
