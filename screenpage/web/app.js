// Kiosk page renderer.
//
// The player process decides what is on screen and when (display/director.go)
// and tells this page over Server-Sent Events at /events. The page only
// renders: it keeps two layers, prepares the next item (media decoded or
// buffered) in the hidden one, and swaps when told, so no blank frame shows
// between items. All item text is set with textContent, never as markup.
//
// The same page runs in the admin page's preview (served by the server at
// /admin/screen/?preview): there it opens no event stream and reports to
// no player; the admin page, its parent on the same origin, posts it show
// events built from the item being edited, and the page answers with how
// the text fitted (see preview below).
'use strict';

(function () {
  const FADE_MS = 700;            // a little longer than the CSS transition
  const MEDIA_TIMEOUT_MS = 5000;  // media slower than this shows as text
  const ALIVE_MS = 5000;          // liveness report period (server window: 15 s)
  const STALE_MS = 45000;         // no event for this long: reconnect
  const FIT_LEVELS = 4;           // .fit-1 .. .fit-4 in app.css
  const URGENT_PAGE_MS = 10000;   // an urgent notice's body pages this often
  const MIN_PAGE_LINES = 2;       // fewer body lines a page than this: cut instead
  const TICKER_PX_S = 6;          // ticker speed in --u per second: gentle
  const PREVIEW = new URLSearchParams(location.search).has('preview');
  // The band's words when a show event brings none (the preview): the
  // same as the player's (display/events.go kindLabels). Residents read
  // Chinese, whatever the language of the admin page.
  const KIND_LABELS = { legal_story: '法律故事', notice: '服务信息', psa: '公益广告' };

  const layers = [document.getElementById('layer-a'), document.getElementById('layer-b')];
  const layerToken = [0, 0];      // bumps on every render into a layer
  const fallback = document.getElementById('fallback');
  const fbClock = document.getElementById('fb-clock');
  const fbDate = document.getElementById('fb-date');
  const fbDistrict = document.getElementById('fb-district');
  const fbScreen = document.getElementById('fb-screen');

  let skew = 0;         // server-corrected time minus this browser's clock, ms
  let tz = 'Asia/Shanghai';
  let front = -1;       // index of the visible layer; -1 while the fallback is up
  let shownKey = '';    // show key on screen
  let shownItem = '';   // item id on screen, '' for the fallback
  let shownSig = '';    // content signature on screen
  let gen = 0;          // bumps per show event; stale async work checks it
  let prepared = null;  // {idx, sig, ready} of the hidden layer's content
  let pending = null;   // like prepared, for the item waiting to be revealed
  let lastEvent = Date.now();

  function sig(item) { return item ? JSON.stringify(item) : ''; }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // textEl is an element whose text keeps numbers with units and short
  // names whole across lines (linebreak.js).
  function textEl(tag, cls, text) {
    return window.kioskWrapText(el(tag, cls), text);
  }

  function withTimeout(p, ms) {
    return new Promise(function (resolve, reject) {
      const t = setTimeout(function () { reject(new Error('timeout')); }, ms);
      p.then(function (v) { clearTimeout(t); resolve(v); },
             function (e) { clearTimeout(t); reject(e); });
    });
  }

  // ---- rendering ----

  function loadImage(box, media) {
    const img = new Image();
    img.alt = '';
    img.decoding = 'async';
    img.src = media.url;
    box.appendChild(img);
    return withTimeout(img.decode(), MEDIA_TIMEOUT_MS);
  }

  function loadVideo(box, media, layer) {
    const v = document.createElement('video');
    v.muted = true;
    v.defaultMuted = true;
    v.setAttribute('muted', '');
    v.playsInline = true;
    v.setAttribute('playsinline', '');
    v.loop = true;          // a clip shorter than the item's time repeats
    v.preload = 'auto';
    v.disablePictureInPicture = true;
    box.appendChild(v);
    const ready = new Promise(function (resolve, reject) {
      v.addEventListener('canplaythrough', resolve, { once: true });
      v.addEventListener('error', function () { reject(new Error('video error')); }, { once: true });
    });
    v.src = media.url;
    // A video that breaks while on screen turns into its text version. The
    // layer may have been refilled with another item since, whose media a
    // late error from this old element must not strip.
    v.addEventListener('error', function () { if (layer.contains(v)) textOnly(layer); });
    return withTimeout(ready, MEDIA_TIMEOUT_MS).catch(function (err) {
      // Enough data to start is good enough; the rest streams from disk.
      if (v.readyState >= 2 && !v.error) return;
      throw err;
    });
  }

  function stopMedia(layer) {
    layer.querySelectorAll('video').forEach(function (v) {
      v.pause();
      v.removeAttribute('src');
      v.load(); // releases the decoder
    });
  }

  // textOnly drops the media of a layer: a broken image never leaves a hole.
  function textOnly(layer) {
    stopMedia(layer);
    layer.querySelectorAll('.media').forEach(function (m) { m.remove(); });
    const content = layer.querySelector('.content');
    if (content) content.classList.remove('has-media');
    fit(layer);
    // The text got more room: on screen, its pages start again.
    if (layers.indexOf(layer) === front) startPaging(layer, (Number(layer.dataset.duration) || 10) * 1000);
  }

  // fit shrinks long text step by step down to the legible floor (the
  // CSS keeps a title at 4 % of the screen height or more). Text that
  // still overflows there: the body is paged (page 1/3 ...), each page
  // shown for its share of the item's time; a title too long for the
  // screen on its own, or a body with too little room for two lines, is
  // cut with a fade. The outcome is on the layer as data-fit: ok, shrunk,
  // paged or cut (the preview shows it to the editor).
  function fit(layer) {
    const content = layer.querySelector('.content');
    const text = layer.querySelector('.text');
    if (!content || !text) return;
    stopPaging(layer);
    for (let i = 1; i <= FIT_LEVELS; i++) content.classList.remove('fit-' + i);
    content.classList.remove('clamped', 'paged');
    const oldBody = text.querySelector('.body');
    if (oldBody) {
      oldBody.classList.remove('lines');
      oldBody.style.removeProperty('--page-lines');
      oldBody.scrollTop = 0;
    }
    delete layer.pager;
    delete layer.dataset.pages;
    const oldNo = layer.querySelector('.page-no');
    if (oldNo) oldNo.remove();
    layer.dataset.fit = 'ok';
    for (let level = 0; level <= FIT_LEVELS; level++) {
      if (level > 0) {
        content.classList.remove('fit-' + (level - 1));
        content.classList.add('fit-' + level);
        layer.dataset.fit = 'shrunk';
      }
      if (text.scrollHeight <= text.clientHeight + 1) return;
    }
    const body = text.querySelector('.body');
    if (body) {
      content.classList.add('paged');
      const lineH = parseFloat(getComputedStyle(body).lineHeight) || 1;
      const lines = Math.floor((body.clientHeight + 1) / lineH);
      if (lines >= MIN_PAGE_LINES) {
        body.style.setProperty('--page-lines', String(lines));
        body.classList.add('lines');
        const pageH = lines * lineH;
        const pages = Math.max(1, Math.ceil((body.scrollHeight - 1) / pageH));
        layer.dataset.fit = 'paged';
        layer.dataset.pages = String(pages);
        layer.pager = { pages: pages, pageH: pageH, page: 0, timer: null };
        setPage(layer, 0);
        if (text.scrollHeight <= text.clientHeight + 1) return;
      }
      content.classList.remove('paged');
      body.classList.remove('lines');
      body.style.removeProperty('--page-lines');
      delete layer.pager;
      delete layer.dataset.pages;
    }
    content.classList.add('clamped');
    layer.dataset.fit = 'cut';
  }

  // setPage shows page n of a paged body, and says which on the band.
  function setPage(layer, n) {
    const pg = layer.pager;
    const body = layer.querySelector('.body');
    if (!pg || !body) return;
    pg.page = n % pg.pages;
    body.scrollTop = pg.page * pg.pageH;
    let no = layer.querySelector('.page-no');
    if (!no) {
      no = el('span', 'page-no');
      const band = layer.querySelector('.band');
      if (band) band.appendChild(no);
    }
    no.textContent = (pg.page + 1) + ' / ' + pg.pages;
  }

  // startPaging turns the pages of a shown layer, all pages within totalMs
  // (the item's time), starting from the first.
  function startPaging(layer, totalMs) {
    const pg = layer.pager;
    if (!pg) return;
    stopPaging(layer);
    setPage(layer, 0);
    const every = Math.max(3000, totalMs / pg.pages);
    pg.timer = setInterval(function () {
      if (!layer.pager) return;
      setPage(layer, pg.page + 1);
    }, every);
  }

  function stopPaging(layer) {
    if (layer.pager && layer.pager.timer) clearInterval(layer.pager.timer);
    if (layer.pager) layer.pager.timer = null;
  }

  // render builds item into a hidden layer; the promise resolves (never
  // rejects) once the layer can be shown without a blank or half-loaded frame.
  function render(idx, item) {
    const layer = layers[idx];
    layerToken[idx]++;
    stopMedia(layer);
    stopPaging(layer);
    delete layer.pager;
    layer.replaceChildren();
    layer.className = 'layer kind-' + String(item.kind || '').replace(/[^a-z_]/g, '');
    layer.dataset.itemId = item.id;
    layer.dataset.duration = String(item.duration_s || 10);
    layer.setAttribute('aria-hidden', 'true');

    const band = el('div', 'band');
    band.appendChild(el('span', 'kind-label', item.kind_label || KIND_LABELS[item.kind] || '信息'));
    const content = el('div', 'content');
    const text = el('div', 'text');
    text.appendChild(textEl('h1', 'title', item.title));
    if (item.body) text.appendChild(textEl('p', 'body', item.body));

    let ready = Promise.resolve();
    if (item.media) {
      content.classList.add('has-media');
      const box = el('div', 'media');
      content.appendChild(box);
      ready = (item.media.type === 'video' ? loadVideo(box, item.media, layer) : loadImage(box, item.media))
        .catch(function () { textOnly(layer); });
    }
    content.appendChild(text);
    layer.append(band, content);
    fit(layer);
    return ready.then(function () { fit(layer); });
  }

  function setTitleId(layer) {
    document.querySelectorAll('#title').forEach(function (e) { e.removeAttribute('id'); });
    const t = layer && layer.querySelector('.title');
    if (t) t.id = 'title';
  }

  // retire fades a layer out from under the one now on top, then empties it
  // unless something was rendered into it meanwhile.
  function retire(idx) {
    const layer = layers[idx];
    const token = layerToken[idx];
    layer.classList.remove('visible');
    layer.classList.add('behind');
    layer.setAttribute('aria-hidden', 'true');
    setTimeout(function () {
      layer.classList.remove('behind');
      if (layerToken[idx] !== token || front === idx) return;
      stopMedia(layer);
      stopPaging(layer);
      delete layer.pager;
      layer.replaceChildren();
      if (prepared && prepared.idx === idx) prepared = null;
    }, FADE_MS);
  }

  function reveal(idx, key, item) {
    const layer = layers[idx];
    layer.classList.remove('behind');
    layer.classList.add('visible');
    layer.setAttribute('aria-hidden', 'false');
    setTitleId(layer);
    if (front >= 0 && front !== idx) retire(front);
    fallback.classList.remove('visible');
    layer.querySelectorAll('video').forEach(function (v) {
      v.currentTime = 0;
      const p = v.play();
      if (p) p.catch(function () { /* muted autoplay is allowed; ignore races */ });
    });
    front = idx;
    shownKey = key;
    shownItem = item.id;
    shownSig = sig(item);
    document.body.dataset.showing = item.id;
    startPaging(layer, (item.duration_s || 10) * 1000);
    reportAlive();
    reportFit(layer);
  }

  function showFallback(key) {
    fallback.classList.add('visible');
    if (front >= 0) retire(front);
    front = -1;
    shownKey = key;
    shownItem = '';
    shownSig = '';
    document.body.dataset.showing = '';
    setTitleId(null);
    tickClock();
    reportAlive();
  }

  // preload prepares the next item in the hidden layer, waiting for a layer
  // that is still fading out.
  function preload(next, myGen) {
    if (!next || myGen !== gen) return;
    const s = sig(next);
    if (s === shownSig || (prepared && prepared.sig === s)) return;
    const idx = front === 0 ? 1 : 0;
    if (layers[idx].classList.contains('behind')) {
      setTimeout(function () { preload(next, myGen); }, FADE_MS);
      return;
    }
    prepared = { idx: idx, sig: s, ready: render(idx, next) };
  }

  function onShow(ev) {
    const myGen = ++gen;
    lastEvent = Date.now();
    skew = ev.now - Date.now();
    if (ev.timezone) tz = ev.timezone;
    showUrgent(ev.urgent);
    if (window.kioskPairing) window.kioskPairing(ev.pairing, ev.now); // pairing.js
    fbDistrict.textContent = ev.district_name || '';
    fbScreen.textContent = ev.screen_name || '';
    // Safe mode: the slate says content is being updated.
    document.getElementById('fb-note').hidden = !ev.safe_mode;
    setLayout(ev);

    if (ev.fallback) {
      if (front !== -1 || !fallback.classList.contains('visible') || shownKey !== ev.key) showFallback(ev.key);
      preload(ev.next, myGen);
      return;
    }
    const item = ev.current;
    const s = sig(item);
    if (ev.key === shownKey || (s === shownSig && front >= 0)) {
      // Already on screen (or the same content again, e.g. a one-item
      // rotation): keep it running, refresh the preload only.
      shownKey = ev.key;
      preload(ev.next, myGen);
      return;
    }
    // Reuse the layer already being made ready for this content: the one a
    // previous event started (pending) or the preloaded next item.
    let p = null;
    if (pending && pending.sig === s && pending.idx !== front) p = pending;
    else if (prepared && prepared.sig === s && prepared.idx !== front) p = prepared;
    else {
      const idx = front === 0 ? 1 : 0;
      p = { idx: idx, sig: s, ready: render(idx, item) };
    }
    prepared = null;
    pending = p;
    p.ready.then(function () {
      if (myGen !== gen) return;
      pending = null;
      reveal(p.idx, ev.key, item);
      setTimeout(function () { preload(ev.next, myGen); }, FADE_MS);
    });
  }

  // ---- clock (fallback screen) on the server-corrected time ----

  let fmtTz = '';
  let timeFmt = null;
  let dateFmt = null;

  function formatters() {
    if (fmtTz === tz && timeFmt) return;
    const base = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    const date = { year: 'numeric', month: 'numeric', day: 'numeric', weekday: 'long' };
    try {
      timeFmt = new Intl.DateTimeFormat('zh-CN', Object.assign({ timeZone: tz }, base));
      dateFmt = new Intl.DateTimeFormat('zh-CN', Object.assign({ timeZone: tz }, date));
    } catch (e) {
      // An unknown zone name: local time beats no clock at all.
      timeFmt = new Intl.DateTimeFormat('zh-CN', base);
      dateFmt = new Intl.DateTimeFormat('zh-CN', date);
    }
    fmtTz = tz;
  }

  function parts(fmt, d) {
    const out = {};
    fmt.formatToParts(d).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }

  function tickClock() {
    formatters();
    const d = new Date(Date.now() + skew);
    const t = parts(timeFmt, d);
    const day = parts(dateFmt, d);
    fbClock.textContent = t.hour + ':' + t.minute;
    fbDate.textContent = day.year + '年' + day.month + '月' + day.day + '日 ' + day.weekday;
  }

  // ---- identify: the screen's name and id over everything ----

  let identifyTimer = null;
  function showIdentify(ev) {
    let box = document.getElementById('identify');
    if (!box) {
      box = el('div', '');
      box.id = 'identify';
      box.setAttribute('role', 'status');
      box.append(el('div', 'id-name'), el('div', 'id-id'), el('div', 'id-hint', '识别屏幕'));
      document.body.appendChild(box);
    }
    box.querySelector('.id-name').textContent = ev.screen_name || '(未命名屏幕)';
    box.querySelector('.id-id').textContent = ev.screen_id || '';
    box.classList.add('visible');
    document.body.dataset.identify = ev.screen_id || '1';
    // Until is on the server-corrected clock, like everything the player sends.
    const ms = Math.max(0, ev.until - ev.now);
    if (identifyTimer) clearTimeout(identifyTimer);
    identifyTimer = setTimeout(function () {
      box.classList.remove('visible');
      delete document.body.dataset.identify;
      identifyTimer = null;
    }, ms);
  }

  // ---- urgent notice: covers the rotation until the player ends it ----

  let urgentId = '';    // notice on screen, '' when none
  let urgentSig = '';   // its content signature

  function urgentBox() {
    let box = document.getElementById('urgent');
    if (!box) {
      box = el('section', '');
      box.id = 'urgent';
      box.setAttribute('role', 'alert');
      box.setAttribute('aria-hidden', 'true');
      document.getElementById('stage').appendChild(box);
    }
    return box;
  }

  // showUrgent renders the overlay from the show event's urgent field. The
  // player decides when a notice starts, rotates and ends (on the corrected
  // clock); the page only follows.
  function showUrgent(u) {
    const box = urgentBox();
    if (!u) {
      if (!urgentId) return;
      stopPaging(box);
      delete box.pager;
      box.classList.remove('visible');
      box.setAttribute('aria-hidden', 'true');
      box.replaceChildren();
      urgentId = '';
      urgentSig = '';
      delete document.body.dataset.urgent;
      reportAlive();
      return;
    }
    const s = JSON.stringify([u.id, u.title, u.body, u.media, u.expires_at, u.index, u.count]);
    if (s === urgentSig) return;
    urgentSig = s;
    urgentId = u.id;
    stopPaging(box);
    delete box.pager;

    const band = el('div', 'band');
    band.appendChild(el('span', 'kind-label', u.label || '紧急通知'));
    if (u.count > 1) band.appendChild(el('span', 'u-count', u.index + ' / ' + u.count));
    const content = el('div', 'content');
    const text = el('div', 'text');
    text.appendChild(textEl('h1', 'title', u.title));
    if (u.body) text.appendChild(textEl('p', 'body', u.body));
    if (u.media && u.media.type === 'image') {
      content.classList.add('has-media');
      const m = el('div', 'media');
      content.appendChild(m);
      loadImage(m, u.media).catch(function () {
        m.remove();
        content.classList.remove('has-media');
        fit(box);
        if (box.pager) startPaging(box, box.pager.pages * URGENT_PAGE_MS);
      });
    }
    content.appendChild(text);
    formatters();
    const until = parts(timeFmt, new Date(u.expires_at));
    const foot = el('div', 'u-until', '有效至 ' + until.hour + ':' + until.minute);
    box.replaceChildren(band, content, foot);
    box.classList.add('visible');
    box.setAttribute('aria-hidden', 'false');
    document.body.dataset.urgent = u.id;
    fit(box);
    if (box.pager) startPaging(box, box.pager.pages * URGENT_PAGE_MS);
    reportAlive();
  }

  // ---- layouts: a header bar, a footer ticker ----
  //
  // The layout frames the rotation only: the clock screen, safe mode's
  // slate, pairing and urgent notices cover the whole screen above it.

  const hdr = document.getElementById('hdr');
  const hdrPlace = document.getElementById('hdr-place');
  const hdrScreen = document.getElementById('hdr-screen');
  const hdrDate = document.getElementById('hdr-date');
  const hdrTime = document.getElementById('hdr-time');
  const ticker = document.getElementById('ticker');
  let layout = 'full';
  let tickerSig = '';
  let tickerAnim = null;

  function setLayout(ev) {
    let l = ev.safe_mode ? 'full' : String(ev.layout || 'full');
    if (l !== 'header' && l !== 'header_ticker') l = 'full';
    const titles = l === 'header_ticker' && Array.isArray(ev.ticker) ? ev.ticker.filter(Boolean) : [];
    const withTicker = titles.length > 0;
    const changed = layout !== l || document.body.classList.contains('layout-ticker') !== withTicker;
    layout = l;
    document.body.classList.toggle('layout-header', l !== 'full');
    document.body.classList.toggle('layout-ticker', withTicker);
    document.body.dataset.layout = l;
    hdr.hidden = l === 'full';
    hdrPlace.textContent = ev.header || ev.district_name || '';
    hdrScreen.textContent = ev.screen_name || '';
    setTicker(withTicker ? titles : []);
    if (l !== 'full') tickHeader();
    // The room for text changed: fit the shown items again.
    if (changed) {
      layers.forEach(function (layer, idx) {
        if (!layer.querySelector('.content')) return;
        fit(layer);
        if (idx === front) startPaging(layer, (Number(layer.dataset.duration) || 10) * 1000);
      });
    }
  }

  function setTicker(titles) {
    const s = JSON.stringify(titles);
    if (s === tickerSig) return;
    tickerSig = s;
    if (tickerAnim) { tickerAnim.cancel(); tickerAnim = null; }
    ticker.hidden = titles.length === 0;
    ticker.replaceChildren();
    if (!titles.length) return;
    // Two copies of the run: sliding the track left by one copy's width
    // and starting over looks like one endless band.
    const track = el('div', 'tk-track');
    for (let copy = 0; copy < 2; copy++) {
      const run = el('div', 'tk-run');
      if (copy) run.setAttribute('aria-hidden', 'true');
      titles.forEach(function (t) { run.appendChild(el('span', 'tk-item', t)); });
      track.appendChild(run);
    }
    ticker.appendChild(track);
    if (window.matchMedia && matchMedia('(prefers-reduced-motion: reduce)').matches) return;
    const u = Math.min(innerHeight / 100, 1.15 * innerWidth / 100);
    const runW = track.firstChild.getBoundingClientRect().width;
    const ms = Math.max(8000, runW / (TICKER_PX_S * u) * 1000);
    if (track.animate) {
      tickerAnim = track.animate([{ transform: 'translateX(0)' }, { transform: 'translateX(-' + runW + 'px)' }],
        { duration: ms, iterations: Infinity, easing: 'linear' });
    }
  }

  function tickHeader() {
    if (layout === 'full') return;
    formatters();
    const d = new Date(Date.now() + skew);
    const t = parts(timeFmt, d);
    const day = parts(dateFmt, d);
    hdrTime.textContent = t.hour + ':' + t.minute;
    hdrDate.textContent = day.month + '月' + day.day + '日 ' + day.weekday;
  }

  // ---- preview: the admin page's parent frame feeds show events ----

  // reportFit tells the admin page how the text fitted on this screen.
  function reportFit(layer) {
    if (!PREVIEW || window.parent === window) return;
    const title = layer.querySelector('.title');
    const body = layer.querySelector('.body');
    const px = function (e) { return e ? parseFloat(getComputedStyle(e).fontSize) : 0; };
    window.parent.postMessage({
      type: 'kiosk-fit',
      item: layer.dataset.itemId || '',
      fit: layer.dataset.fit || 'ok',
      pages: Number(layer.dataset.pages || 1),
      title_px: px(title),
      body_px: px(body),
      width: innerWidth,
      height: innerHeight,
    }, location.origin);
  }

  function listenPreview() {
    window.addEventListener('message', function (e) {
      if (e.origin !== location.origin || e.source !== window.parent) return;
      const msg = e.data;
      if (!msg || msg.type !== 'kiosk-show' || !msg.show) return;
      try { onShow(msg.show); } catch (err) { console.error('preview show', err); }
    });
    window.parent.postMessage({ type: 'kiosk-ready' }, location.origin);
  }

  // ---- transport ----

  function reportAlive() {
    if (PREVIEW) return;
    fetch('/alive', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ item: urgentId || shownItem, key: shownKey }),
      cache: 'no-store',
    }).catch(function () { /* the player may be restarting */ });
  }

  let es = null;
  function connect() {
    if (es) es.close();
    lastEvent = Date.now();
    es = new EventSource('/events');
    es.addEventListener('show', function (e) {
      try { onShow(JSON.parse(e.data)); } catch (err) { console.error('show event', err); }
    });
    es.addEventListener('clock', function (e) {
      lastEvent = Date.now();
      try { skew = JSON.parse(e.data).now - Date.now(); } catch (err) { console.error('clock event', err); }
    });
    es.addEventListener('identify', function (e) {
      lastEvent = Date.now();
      try { showIdentify(JSON.parse(e.data)); } catch (err) { console.error('identify event', err); }
    });
    es.addEventListener('reload', function () {
      // A technician asked for a fresh page (new script, a stuck browser).
      location.reload();
    });
    es.addEventListener('error', function () {
      // EventSource retries by itself unless the answer was not a stream
      // (the player restarting, too many streams): then retry ourselves.
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    });
  }

  tickClock();
  setInterval(function () { tickClock(); tickHeader(); }, 1000);
  if (PREVIEW) {
    document.body.classList.add('preview');
    listenPreview();
  } else {
    connect();
    setInterval(reportAlive, ALIVE_MS);
    setInterval(function () {
      if (Date.now() - lastEvent > STALE_MS) connect();
    }, 5000);
  }
})();
