// Pairing view: while the player waits to be paired it covers the screen
// with the code a technician enters in the admin page ("添加屏幕"), the
// server it waits on and how long the code stays valid. The player sends
// it in every show event (display/pairing.go); app.js hands it here. Text
// only through textContent, like the rest of the page.
'use strict';

(function () {
  let box = null;
  let timer = null;
  let shown = '';     // code on screen, '' when none
  let expires = 0;    // unix ms, server clock
  let skew = 0;       // server clock minus this browser's, from the event

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function build() {
    box = el('section', '');
    box.id = 'pairing';
    box.setAttribute('role', 'status');
    const code = el('div', 'pa-code');
    code.id = 'pairing-code';
    box.append(el('div', 'pa-title', '配对此屏幕'), code, el('div', 'pa-hint'),
      el('div', 'pa-expires'), el('div', 'pa-server'));
    document.body.appendChild(box);
  }

  function tick() {
    if (!box || !shown) return;
    const left = Math.max(0, Math.round((expires - (Date.now() + skew)) / 1000));
    const m = Math.floor(left / 60);
    const s = String(left % 60).padStart(2, '0');
    box.querySelector('.pa-expires').textContent = left > 0
      ? '配对码 ' + m + ':' + s + ' 后失效，届时自动更换'
      : '正在获取新的配对码…';
  }

  // kioskPairing shows p ({code, display, expires_at, server, hint}) or,
  // given nothing, takes the view down.
  window.kioskPairing = function (p, now) {
    if (typeof now === 'number') skew = now - Date.now();
    if (!p || !p.code) {
      if (!shown) return;
      box.classList.remove('visible');
      shown = '';
      delete document.body.dataset.pairing;
      if (timer) clearInterval(timer);
      timer = null;
      return;
    }
    if (!box) build();
    box.querySelector('.pa-code').textContent = p.display || p.code;
    box.querySelector('.pa-hint').textContent = p.hint || '';
    box.querySelector('.pa-server').textContent = p.server ? '服务器 ' + p.server : '';
    expires = p.expires_at || 0;
    shown = p.code;
    document.body.dataset.pairing = p.code;
    box.classList.add('visible');
    tick();
    if (!timer) timer = setInterval(tick, 1000);
  };
})();
