// Live updates for pages that ask for them; every page works without this script.
(function () {
  'use strict';
  if (!window.EventSource) { return; }
  var list = document.querySelector('ol[data-live]');
  if (list) {
    var messages = new EventSource(list.getAttribute('data-live'));
    messages.addEventListener('message', function (e) {
      if (e.lastEventId && document.getElementById('m' + e.lastEventId)) { return; }
      list.insertAdjacentHTML('beforeend', e.data);
      var added = list.lastElementChild;
      if (added && added.scrollIntoView) { added.scrollIntoView({ block: 'nearest' }); }
    });
  }
  var badge = document.querySelector('[data-live-unread]');
  if (badge) {
    var counter = new EventSource(badge.getAttribute('data-live-unread'));
    counter.addEventListener('unread', function (e) {
      badge.textContent = e.data;
      badge.hidden = e.data === '0';
    });
  }
}());
