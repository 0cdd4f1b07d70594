// Screen preview of the admin page: the very page the screens show
// (package screenpage, served at /admin/screen/), framed at 1920×1080 and
// 1080×1920 and scaled down by CSS classes (preview.css). The frame is on
// this origin; it opens no event stream and renders the show events this
// module posts it, as a player's page renders the player's. Pictures come
// from the admin asset API as blob: URLs, which a same-origin frame may
// load under its strict CSP.
//
// Also here: the live "does it fit" check (POST /preview/fit, an estimate
// from the page's type sizes) and the wording of the fit warnings that
// item writes answer.

import { el, append, api, enc } from './kit.js';
import { t, has } from './i18n.js';

export const LAYOUTS = ['full', 'header', 'header_ticker'];
const SCREENS = [{ name: 'landscape', w: 1920, h: 1080 }, { name: 'portrait', w: 1080, h: 1920 }];
const FIT_DEBOUNCE_MS = 400;

// mediaType is what the screen page can show of a MIME type ('' for
// nothing): the player's rule (display/events.go mediaType).
function mediaType(mime) {
  const m = String(mime || '');
  if (m.startsWith('image/') && !m.startsWith('image/svg')) return 'image';
  if (m.startsWith('video/')) return 'video';
  return '';
}

// assetMedia loads saved assets for the frames: one blob: URL per asset
// per page, released with the page.
export function assetMedia(pg) {
  const loads = new Map(); // sha → Promise of {url, type, mime} or null
  return function media(sha) {
    if (!sha) return Promise.resolve(null);
    if (!loads.has(sha)) {
      loads.set(sha, (async () => {
        const resp = await api('GET', `/assets/${enc(sha)}/raw`, undefined, { raw: true });
        const blob = await resp.blob();
        const type = mediaType(blob.type);
        if (!pg.alive || !type) return null;
        return { url: pg.objectURL(blob), type, mime: blob.type };
      })().catch(() => {
        loads.delete(sha); // try again next time
        return null;
      }));
    }
    return loads.get(sha);
  };
}

// fileMedia shows a file chosen in a form before it is uploaded.
export function fileMedia(pg, file) {
  const type = file ? mediaType(file.type) : '';
  return type ? { url: pg.objectURL(file), type, mime: file.type } : null;
}

// screenPreview builds the two frames and a layout picker. setItems shows
// one item, or rotates through several (a playlist) on their durations;
// each item is {id, kind, title, body, duration_s, media}.
export function screenPreview(pg, { onShow } = {}) {
  let layout = 'full';
  let chosen = false; // the editor picked the layout (else the server's)
  let items = [];
  let at = 0;
  let seq = 0;
  let timer = 0;

  const frames = SCREENS.map((s) => {
    const iframe = el('iframe', {
      src: 'screen/?preview', width: s.w, height: s.h, class: 'pv-iframe', tabindex: '-1',
      title: t('pv.' + s.name), dataset: { screen: s.name },
    });
    const note = el('span', { class: 'pv-note', role: 'status', dataset: { screen: s.name } });
    const fig = el('figure', { class: `pv-frame pv-${s.name}` },
      el('div', { class: 'pv-box' }, iframe),
      el('figcaption', {}, el('span', { class: 'pv-size', text: t('pv.' + s.name) }), ' ', note));
    return { s, iframe, note, fig, ready: false };
  });

  const layoutSel = el('select', { id: 'pv-layout', name: 'layout', onchange: () => { layout = layoutSel.value; chosen = true; post(); } },
    LAYOUTS.map((l) => el('option', { value: l, text: t('pv.layout.' + l) })));
  const empty = el('p', { class: 'muted pv-empty', text: t('pv.empty') });
  const root = el('section', { class: 'card pv', id: 'preview' },
    el('div', { class: 'pv-head' },
      el('h2', { text: t('pv.title') }),
      el('label', { class: 'inline', for: 'pv-layout' }, t('pv.layout'), ' ', layoutSel)),
    el('p', { class: 'hint', text: t('pv.hint') }),
    empty,
    el('div', { class: 'pv-frames' }, frames.map((f) => f.fig)));

  function onMessage(e) {
    if (!pg.alive) {
      window.removeEventListener('message', onMessage);
      clearTimeout(timer);
      return;
    }
    if (e.origin !== location.origin || !e.data) return;
    const f = frames.find((x) => x.iframe.contentWindow === e.source);
    if (!f) return;
    if (e.data.type === 'kiosk-ready') {
      f.ready = true;
      send(f);
    } else if (e.data.type === 'kiosk-fit') {
      const fit = ['ok', 'shrunk', 'paged', 'cut'].includes(e.data.fit) ? e.data.fit : 'ok';
      f.iframe.dataset.fit = fit;
      f.note.className = 'pv-note fit-' + fit;
      f.note.textContent = t('pv.frame.' + fit, { pages: e.data.pages || 1 });
    }
  }
  window.addEventListener('message', onMessage);

  // showEvent is what a player would send for items[at] (display/events.go).
  function showEvent() {
    const cur = items[at];
    const next = items.length > 1 ? items[(at + 1) % items.length] : null;
    const ticker = [...new Set(items.filter((i) => i.kind === 'notice' && i.title).map((i) => i.title))];
    const now = Date.now();
    return {
      key: 'preview-' + seq, fallback: !cur, current: cur || undefined, next: next || undefined,
      since: now, now, timezone: 'Asia/Shanghai',
      district_name: t('pv.compound'), screen_name: t('pv.screenName'),
      layout, header: t('pv.compound'), ticker,
    };
  }

  function send(f) {
    if (!f.ready || !f.iframe.contentWindow) return;
    f.iframe.contentWindow.postMessage({ type: 'kiosk-show', show: showEvent() }, location.origin);
  }

  function post() {
    empty.hidden = items.length > 0;
    frames.forEach(send);
    if (onShow) onShow(items[at] || null, at, items.length);
  }

  function rotate() {
    clearTimeout(timer);
    if (items.length < 2 || !pg.alive) return;
    timer = setTimeout(() => {
      at = (at + 1) % items.length;
      seq++;
      post();
      rotate();
    }, Math.max(1, Number(items[at].duration_s) || 10) * 1000);
  }

  return {
    root,
    // setItems shows list from its first item.
    setItems(list) {
      items = (list || []).filter((i) => i && i.title);
      at = 0;
      seq++;
      post();
      rotate();
    },
    current: () => items[at] || null,
    get layout() { return layout; },
    // chosenLayout is the layout the editor picked, '' until they do.
    get chosenLayout() { return chosen ? layout : ''; },
    // suggest shows the layout the fit estimate used, unless the editor
    // picked one: estimate and frames then agree.
    suggest(l) {
      if (chosen || !LAYOUTS.includes(l) || l === layout) return;
      layout = l;
      layoutSel.value = l;
      post();
    },
  };
}

const screenName = (o) => t('pv.screen.' + (o === 'portrait' ? 'portrait' : 'landscape'));

// fitText words one panel's estimate (a fit of POST /preview/fit).
function fitText(f) {
  const screen = screenName(f.orientation);
  if (f.status === 'paged') return t('pv.fit.paged', { screen, pages: f.pages, secs: Math.round(f.page_seconds) });
  if (f.status === 'cut') return t(f.title_too_long ? 'pv.fit.titleCut' : 'pv.fit.cut', { screen });
  return t(f.status === 'shrunk' ? 'pv.fit.shrunk' : 'pv.fit.ok', { screen });
}

// fitCheck is the live "does it fit" box of a form: check(text) asks the
// server (debounced) while the editor types and shows both panels. Without
// a layout the server estimates for the tightest layout screens use, as it
// does for the warnings of a saved item.
export function fitCheck(pg, { onAnswer } = {}) {
  let timer = 0;
  let asked = 0;
  const list = el('ul', { class: 'pv-fit-list' });
  const root = el('div', { class: 'pv-fit', id: 'i-fit', role: 'status', hidden: true },
    el('strong', { text: t('pv.fit.heading') }), list,
    el('p', { class: 'hint', text: t('pv.fit.note') }));
  function show(answer) {
    list.replaceChildren(...(answer.fits || []).map((f) => el('li', {
      class: 'fit-' + (f.status === 'cut' ? 'cut' : f.status === 'paged' ? 'paged' : 'ok'),
      dataset: { orientation: f.orientation, status: f.status, titleTooLong: f.title_too_long ? '1' : '' },
      text: fitText(f),
    })));
    root.dataset.state = (answer.fits || []).some((f) => f.status === 'cut') ? 'cut'
      : (answer.fits || []).some((f) => f.status === 'paged') ? 'paged' : 'ok';
  }
  return {
    root,
    // check estimates text ({title, body, duration_s, asset, media,
    // layout}); a blank title hides the box.
    check(text) {
      clearTimeout(timer);
      if (!text || !String(text.title || '').trim()) {
        root.hidden = true;
        return;
      }
      timer = setTimeout(async () => {
        const mine = ++asked;
        root.hidden = false;
        root.dataset.state = 'checking';
        try {
          const a = await api('POST', '/preview/fit', text);
          if (mine !== asked || !pg.alive) return;
          show(a);
          if (onAnswer) onAnswer(a);
        } catch (err) {
          if (mine !== asked || !pg.alive) return;
          root.dataset.state = 'failed';
          list.replaceChildren(el('li', { class: 'error', text: t('pv.fit.failed', { msg: err.message }) }));
        }
      }, FIT_DEBOUNCE_MS);
    },
    hide() {
      clearTimeout(timer);
      asked++;
      root.hidden = true;
    },
  };
}

// warningList words the warnings an item write answered; null when none.
export function warningList(warnings) {
  if (!warnings || !warnings.length) return null;
  return el('div', { class: 'pv-warnings', id: 'item-warnings', role: 'alert' },
    el('strong', { text: t('item.savedWarnings') }),
    el('ul', {}, warnings.map((w) => el('li', {
      dataset: { code: w.code, orientation: w.orientation || '' },
      title: w.message || '',
      text: has('pv.warn.' + w.code) ? t('pv.warn.' + w.code, { screen: screenName(w.orientation), pages: w.pages || '' }) : w.message,
    }))));
}

// previewView is the preview screen (#/preview?playlist=ID or ?item=ID):
// a playlist rotates on its items' durations, as on a screen, with the
// ticker of its notices in the header_ticker layout.
export default function previewView(pg, arg, query) {
  const media = assetMedia(pg);
  const status = el('p', { class: 'muted', id: 'pv-status', role: 'status', text: t('pv.page.pick') });
  const preview = screenPreview(pg, {
    onShow(item, i, n) {
      status.textContent = item ? t('pv.page.nowShowing', { title: item.title, i: i + 1, n }) : t('pv.page.pick');
    },
  });
  const choose = () => el('option', { value: '', text: t('pv.page.choose') });
  const plSel = el('select', { id: 'pv-playlist', name: 'playlist', onchange: () => { itemSel.value = ''; load(); } }, choose());
  const itemSel = el('select', { id: 'pv-item', name: 'item', onchange: () => { plSel.value = ''; load(); } }, choose());
  let items = new Map();
  let playlists = new Map();
  let loading = 0;

  async function view(it) {
    const m = await media(it.asset);
    return { id: it.id, kind: it.kind, title: it.title, body: it.body || '', duration_s: it.duration_s || 10, media: m || undefined };
  }

  async function load() {
    const mine = ++loading;
    let list = [];
    if (plSel.value) {
      const pl = playlists.get(plSel.value);
      list = ((pl && pl.items) || []).map((id) => items.get(id)).filter(Boolean);
    } else if (itemSel.value && items.has(itemSel.value)) {
      list = [items.get(itemSel.value)];
    }
    const views = await Promise.all(list.map(view));
    if (mine !== loading || !pg.alive) return;
    preview.setItems(views); // says what shows, or asks for a choice
    if (!list.length && plSel.value) status.textContent = t('pv.page.emptyPlaylist');
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', { text: t('pv.page.title') })),
    el('section', { class: 'card form pv-pick' },
      el('label', { for: 'pv-playlist' }, t('pv.page.playlist')), plSel,
      el('label', { for: 'pv-item' }, t('pv.page.item')), itemSel,
      status),
    preview.root,
  ]);

  (async () => {
    try {
      const [pls, its] = await Promise.all([api('GET', '/playlists'), api('GET', '/items')]);
      if (!pg.alive) return;
      playlists = new Map((pls || []).map((p) => [p.id, p]));
      items = new Map((its || []).map((i) => [i.id, i]));
      plSel.append(...(pls || []).map((p) => el('option', { value: p.id, text: p.name || p.id })));
      itemSel.append(...(its || []).map((i) => el('option', { value: i.id, text: i.title || i.id })));
      const want = query && query.get('playlist');
      const wantItem = query && query.get('item');
      if (want && playlists.has(want)) plSel.value = want;
      else if (wantItem && items.has(wantItem)) itemSel.value = wantItem;
      load();
    } catch (err) {
      if (!err.handled) status.textContent = t('pv.fit.failed', { msg: err.message });
    }
  })();
}
