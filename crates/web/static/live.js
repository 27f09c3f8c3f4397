// Live updates for pages that ask for them; every page works without this script.
// Streams close when the page is hidden: the browser's back/forward cache keeps earlier pages,
// and their open streams would fill the six connections a browser allows one host over
// HTTP/1.1, stalling the next page load. A page brought back from that cache reopens them.
(function () {
  'use strict';
  if (!window.EventSource) { return; }
  var open = [];

  function stream(url, event, handle) {
    var s = { url: url, event: event, handle: handle, source: null };
    open.push(s);
    connect(s);
  }

  function connect(s) {
    s.source = new EventSource(s.url);
    s.source.addEventListener(s.event, s.handle);
  }

  var list = document.querySelector('ol[data-live]');
  if (list) {
    stream(list.getAttribute('data-live'), 'message', function (e) {
      if (e.lastEventId && document.getElementById('m' + e.lastEventId)) { return; }
      list.insertAdjacentHTML('beforeend', e.data);
      var added = list.lastElementChild;
      if (added && added.scrollIntoView) { added.scrollIntoView({ block: 'nearest' }); }
    });
  }
  var badge = document.querySelector('[data-live-unread]');
  if (badge) {
    stream(badge.getAttribute('data-live-unread'), 'unread', function (e) {
      badge.textContent = e.data;
      badge.hidden = e.data === '0';
    });
  }

  window.addEventListener('pagehide', function () {
    open.forEach(function (s) {
      if (s.source) { s.source.close(); s.source = null; }
    });
  });
  window.addEventListener('pageshow', function (e) {
    if (!e.persisted) { return; }
    open.forEach(function (s) {
      if (!s.source) { connect(s); }
    });
  });
}());
