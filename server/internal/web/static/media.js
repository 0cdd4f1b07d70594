// Media library of the admin page: every uploaded image and video with a
// thumbnail, its name, type, size, dimensions, when and by whom it was
// uploaded, and what uses it (GET /assets' used_by: published items, items
// drafted in open change sets, urgent notices in force). Editors upload by
// dropping files on the page or choosing several at once; each file shows
// a real progress bar (percent, speed, time left) and can be cancelled,
// two upload at a time. A file nothing uses can be deleted; the server
// refuses one in use (409 asset_in_use) even if the page's list is stale.
//
// Media cannot be shown by URL (an <img> or <video> cannot send the bearer
// token), so each file is fetched once as a blob. Images use kit's
// thumbnails(); a video is loaded into a muted, paused <video> from its
// blob URL, seeked to about one second and drawn on a canvas, and that
// frame is the thumbnail (CSP media-src allows blob:).

import {
  el, append, api, upload, enc, can, fmtBytes, timeEl, refreshBar, thumbnails, confirmButton, formMessages, changesetHref,
} from './kit.js';
import { t, has, compareText, fmtNumber } from './i18n.js';

const ACCEPT = ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'video/mp4', 'video/webm'];
const IN_FLIGHT = 2; // uploads at once: more only splits the same bandwidth
const VIDEO_PREVIEW_MAX = 32 << 20; // larger videos are not fetched whole just for a thumbnail
const POSTER_WIDTH = 320;
const FORMATS = {
  'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/webp': 'WebP', 'image/gif': 'GIF', 'video/mp4': 'MP4', 'video/webm': 'WebM',
};

const isVideo = (mime) => String(mime || '').startsWith('video/');
const mbps = (bytes, ms) => (ms > 0 ? bytes / 1e6 / (ms / 1000) : 0);
// fmtSpeed writes MB/s (10^6 bytes), or kB/s below 1 MB/s.
const fmtSpeed = (v) => (v >= 1 ? `${v.toFixed(v >= 10 ? 0 : 1)} MB/s` : `${Math.max(0.1, v * 1000).toFixed(v >= 0.01 ? 0 : 1)} kB/s`);

export default function mediaView(pg) {
  const writer = can('content.write');
  const m = formMessages('media');
  let assets = []; // GET /assets, newest first
  let signature = ''; // of the last list drawn: a refresh that changed nothing redraws nothing
  let maxBytes = 0; // the server's upload limit (X-Max-Upload-Bytes), 0 if unknown
  const fresh = new Set(); // hashes uploaded on this visit, marked "new"
  const dims = new Map(); // sha → "W × H" once a thumbnail has loaded
  const thumbs = new Map(); // sha → its thumbnail element, kept across redraws
  const mimeOf = (sha) => (assets.find((a) => a.sha256 === sha) || {}).mime || '';
  const imageThumb = thumbnails(pg, mimeOf);

  // ---- thumbnails ------------------------------------------------------

  function noteDims(sha, w, h) {
    if (!w || !h) return;
    dims.set(sha, `${w} × ${h}`);
    for (const n of pg.root.querySelectorAll('.m-dims')) if (n.dataset.sha === sha) n.textContent = dims.get(sha);
  }

  function videoThumb(a) {
    const box = el('span', { class: 'thumb m-video-thumb', dataset: { sha: a.sha256 } }, el('span', { class: 'muted', text: '…' }));
    if (a.size > VIDEO_PREVIEW_MAX) {
      box.replaceChildren(el('span', { class: 'm-poster-none muted small', text: t('media.bigVideo') }));
      return box;
    }
    (async () => {
      const resp = await api('GET', `/assets/${enc(a.sha256)}/raw`, undefined, { raw: true, immutable: true });
      const blob = await resp.blob();
      if (!pg.alive) return;
      const url = pg.objectURL(blob);
      const v = el('video', { preload: 'metadata', playsinline: true, class: 'm-video' });
      v.muted = true;
      const once = (ev) => new Promise((resolve, reject) => {
        v.addEventListener(ev, resolve, { once: true });
        v.addEventListener('error', () => reject(new Error('video ' + ev)), { once: true });
      });
      const meta = once('loadedmetadata');
      v.src = url;
      await meta;
      noteDims(a.sha256, v.videoWidth, v.videoHeight);
      const seeked = once('seeked');
      v.currentTime = Number.isFinite(v.duration) ? Math.min(1, v.duration / 2) : 0;
      await seeked;
      const w = Math.min(POSTER_WIDTH, v.videoWidth || POSTER_WIDTH);
      const h = Math.max(1, Math.round((w * (v.videoHeight || 9)) / (v.videoWidth || 16)));
      const c = el('canvas', { width: w, height: h });
      c.getContext('2d').drawImage(v, 0, 0, w, h);
      const poster = await new Promise((resolve) => c.toBlob(resolve, 'image/jpeg', 0.85));
      if (!pg.alive) return;
      const mark = el('span', { class: 'm-play', 'aria-hidden': 'true', text: '▶' });
      if (poster) {
        box.replaceChildren(el('img', { src: pg.objectURL(poster), alt: t('media.thumbnail'), class: 'm-poster' }), mark);
        pg.revoke(url); // the frame is all the page keeps; the video's bytes go
      } else {
        box.replaceChildren(v, mark); // the paused first frame itself
      }
    })().catch((err) => {
      box.replaceChildren(el('span', { class: 'error small', title: err.message, text: t('media.loadFailed') }));
    });
    return box;
  }

  // Thumbnails load when their card comes near the screen: a library of
  // many videos is not fetched whole just to be opened.
  const loaders = new WeakMap(); // placeholder → its load function
  const lazy = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      lazy.unobserve(e.target);
      const load = loaders.get(e.target);
      if (load) load();
    }
  }, { rootMargin: '300px' });
  pg.onDispose(() => lazy.disconnect());

  function thumbOf(a) {
    let n = thumbs.get(a.sha256);
    if (!n) {
      n = el('span', { class: 'm-thumb-wrap' }, el('span', { class: 'muted', text: '…' }));
      // load does not bubble, but an ancestor sees it while capturing.
      n.addEventListener('load', (e) => {
        if (e.target instanceof HTMLImageElement && !e.target.classList.contains('m-poster')) {
          noteDims(a.sha256, e.target.naturalWidth, e.target.naturalHeight);
        }
      }, true);
      loaders.set(n, () => n.replaceChildren(isVideo(a.mime) ? videoThumb(a) : imageThumb(a.sha256)));
      lazy.observe(n);
      thumbs.set(a.sha256, n);
    }
    return n;
  }

  // ---- the library -------------------------------------------------------

  const typeSel = el('select', { id: 'm-type', 'aria-label': t('media.filter.type'), onchange: () => render(true) },
    el('option', { value: '', text: t('media.filter.all') }),
    el('option', { value: 'image', text: t('media.filter.image') }),
    el('option', { value: 'video', text: t('media.filter.video') }));
  const unusedIn = el('input', { type: 'checkbox', id: 'm-unused', onchange: () => render(true) });
  const searchIn = el('input', { type: 'search', id: 'm-search', placeholder: t('media.search'), 'aria-label': t('media.search'), oninput: () => render(true) });
  const summary = el('p', { id: 'm-summary', class: 'muted' });
  const grid = el('div', { id: 'm-library', class: 'm-grid' });

  function useLink(u) {
    if (u.kind === 'urgent') {
      return el('li', { class: 'm-use', dataset: { kind: 'urgent', id: u.id } },
        el('span', { class: 'tag', text: t('urgent.tag') }), ' ', el('a', { href: '#/urgent', text: u.title || u.id }));
    }
    return el('li', { class: 'm-use', dataset: { kind: 'item', id: u.id, changeset: u.changeset || '' } },
      el('a', { href: '#/items', title: u.id, text: u.title || u.id }),
      u.changeset ? [' ', el('a', { class: 'tag draft', href: changesetHref(u.changeset), title: t('draft.title', { cs: u.changeset }), text: t('media.draft') })] : null);
  }

  function card(a) {
    const uses = a.used_by || [];
    const name = a.name || t('media.unnamed');
    const format = FORMATS[a.mime] || a.mime;
    const actions = [];
    if (writer && !uses.length) {
      actions.push(confirmButton(t('common.delete'), t('common.confirmDelete'), { delete: a.sha256 }, () => remove(a)));
    } else if (writer) {
      actions.push(el('span', { class: 'muted small m-locked', text: t('media.inUseNoDelete') }));
    }
    return el('article', {
      class: 'm-asset' + (fresh.has(a.sha256) ? ' m-fresh' : ''),
      dataset: { sha: a.sha256, kind: isVideo(a.mime) ? 'video' : 'image', used: String(uses.length), name: a.name || '' },
    },
    el('div', { class: 'm-thumb' }, thumbOf(a)),
    el('div', { class: 'm-info' },
      el('div', { class: 'm-name', title: a.sha256 }, name, fresh.has(a.sha256) ? el('span', { class: 'tag m-new', text: t('media.new') }) : null),
      el('div', { class: 'muted small m-meta' },
        el('span', { class: 'm-format', text: format }), ' · ', el('span', { class: 'm-size', title: `${fmtNumber(a.size)} B`, text: fmtBytes(a.size) }),
        ' · ', el('span', { class: 'm-dims', dataset: { sha: a.sha256 }, text: dims.get(a.sha256) || '—' })),
      el('div', { class: 'muted small m-when' }, timeEl(a.created_at),
        a.uploaded_by ? [' · ', el('span', { class: 'm-by', text: t('media.by', { name: a.uploaded_by }) })] : null),
      uses.length
        ? el('div', { class: 'm-uses' }, el('span', { class: 'small', text: t('media.usedBy') }), el('ul', { class: 'm-use-list' }, uses.map(useLink)))
        : el('div', { class: 'm-uses m-unused muted small', text: t('media.unused') }),
      actions.length ? el('div', { class: 'm-actions' }, actions) : null));
  }

  function render(force) {
    const sig = JSON.stringify([assets, [...fresh]]);
    if (!force && sig === signature) return;
    signature = sig;
    const q = searchIn.value.trim().toLowerCase();
    const shown = assets.filter((a) => (!typeSel.value || (typeSel.value === 'video') === isVideo(a.mime))
      && (!unusedIn.checked || !(a.used_by || []).length)
      && (!q || String(a.name || '').toLowerCase().includes(q) || a.sha256.startsWith(q)));
    const total = assets.reduce((n, a) => n + a.size, 0);
    const unused = assets.filter((a) => !(a.used_by || []).length).length;
    summary.textContent = t('media.summary', { n: fmtNumber(assets.length), size: fmtBytes(total), unused: fmtNumber(unused) });
    grid.replaceChildren(...shown.map(card));
    if (!shown.length) grid.append(el('p', { class: 'muted m-empty', text: assets.length ? t('media.noMatch') : t('media.none') }));
  }

  async function remove(a) {
    m.clear();
    try {
      await api('DELETE', `/assets/${enc(a.sha256)}`);
      assets = assets.filter((x) => x.sha256 !== a.sha256);
      thumbs.delete(a.sha256);
      render();
      m.done(t('media.deleted', { name: a.name || a.sha256.slice(0, 12) }));
    } catch (err) {
      if (err.handled) return;
      // Someone started using it since the list was drawn: say so, and
      // fetch the list again to show who.
      m.fail(err.code === 'asset_in_use' ? t('media.err.asset_in_use') : t('media.deleteFailed', { msg: err.message }));
      pg.tick();
    }
  }

  // ---- uploads -----------------------------------------------------------

  const queue = []; // { file, state, row, ... } in the order chosen
  const fileIn = el('input', { type: 'file', id: 'm-file', multiple: true, accept: ACCEPT.join(','), class: 'm-file-input',
    onchange: () => {
      enqueue([...fileIn.files]);
      fileIn.value = ''; // choosing the same file again is a new upload
    } });
  const pickBtn = el('button', { type: 'button', id: 'm-pick', class: 'primary', onclick: () => fileIn.click() }, t('media.choose'));
  const limitHint = el('span', { class: 'hint', id: 'm-limit' });
  const queueList = el('ol', { id: 'm-queue', class: 'm-queue' });
  const clearBtn = el('button', { type: 'button', id: 'm-clear', class: 'small', hidden: true, onclick: () => {
    for (const u of queue.filter((x) => ['done', 'failed', 'cancelled'].includes(x.state))) {
      u.row.remove();
      queue.splice(queue.indexOf(u), 1);
    }
    clearBtn.hidden = true;
  } }, t('media.up.clear'));
  const drop = el('div', { id: 'm-drop', class: 'm-drop' },
    el('p', { class: 'm-drop-text', text: t('media.dropHint') }), pickBtn, fileIn, limitHint);
  let depth = 0; // dragenter/leave pairs: children fire their own
  drop.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth++;
    drop.classList.add('over');
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  drop.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) drop.classList.remove('over');
  });
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    drop.classList.remove('over');
    enqueue([...(e.dataTransfer.files || [])]);
  });
  // A file dropped beside the zone must not make the browser leave the page.
  const stray = (e) => {
    if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) e.preventDefault();
  };
  window.addEventListener('dragover', stray);
  window.addEventListener('drop', stray);
  pg.onDispose(() => {
    window.removeEventListener('dragover', stray);
    window.removeEventListener('drop', stray);
  });

  // Leaving the page ends its uploads; closing the tab asks first.
  const warn = (e) => {
    if (queue.some((u) => ['queued', 'uploading', 'storing'].includes(u.state))) e.preventDefault();
  };
  window.addEventListener('beforeunload', warn);
  pg.onDispose(() => {
    window.removeEventListener('beforeunload', warn);
    for (const u of queue) {
      if (u.state === 'queued') u.state = 'cancelled';
      if (u.req) u.req.abort();
    }
  });

  function setLimit(n) {
    maxBytes = n;
    limitHint.textContent = n ? t('media.accepts', { max: fmtBytes(n) }) : t('media.acceptsNoMax');
  }
  setLimit(0);

  function localProblem(file) {
    if (!file.size) return t('media.err.empty');
    if (maxBytes && file.size > maxBytes) return t('media.err.too_large', { max: fmtBytes(maxBytes) });
    // An empty type (no known extension) goes to the server, which judges by the bytes.
    if (file.type && !ACCEPT.includes(file.type)) return t('media.err.unsupported_media_type');
    return '';
  }

  function enqueue(files) {
    m.clear();
    for (const file of files) {
      const u = { file, state: 'queued', loaded: 0, events: 0, percent: 0, speed: 0 };
      u.bar = el('progress', { max: 100, value: 0, class: 'm-bar', 'aria-label': file.name });
      u.status = el('div', { class: 'm-up-status small' });
      u.cancel = el('button', { type: 'button', class: 'small danger', dataset: { cancel: '' }, onclick: () => cancel(u) }, t('media.up.cancel'));
      u.row = el('li', { class: 'm-upload', dataset: { name: file.name } },
        el('div', { class: 'm-up-head' }, el('span', { class: 'm-up-name', text: file.name }),
          el('span', { class: 'muted small', text: fmtBytes(file.size) }), u.cancel),
        u.bar, u.status);
      queueList.append(u.row);
      queue.push(u);
      const problem = localProblem(file);
      if (problem) finish(u, 'failed', t('media.up.failed', { msg: problem }));
      else show(u, 'queued', t('media.up.queued'));
    }
    pump();
  }

  function show(u, state, text) {
    u.state = state;
    u.row.dataset.state = state;
    u.status.textContent = text;
  }

  function finish(u, state, text) {
    show(u, state, text);
    u.cancel.hidden = true;
    u.req = null;
    clearBtn.hidden = false;
    if (state !== 'done') u.bar.value = state === 'failed' ? u.bar.value : 0;
  }

  function cancel(u) {
    if (u.state === 'queued') finish(u, 'cancelled', t('media.up.cancelled'));
    else if (u.req) u.req.abort();
  }

  function pump() {
    while (pg.alive && queue.filter((u) => u.state === 'uploading' || u.state === 'storing').length < IN_FLIGHT) {
      const next = queue.find((u) => u.state === 'queued');
      if (!next) return;
      start(next);
    }
  }

  function progress(u, loaded, total) {
    const size = total || u.file.size;
    u.loaded = loaded;
    u.events++;
    u.percent = size ? Math.min(100, Math.floor((loaded * 100) / size)) : 0;
    const elapsed = performance.now() - u.started;
    u.speed = mbps(loaded, elapsed);
    u.bar.value = u.percent;
    const left = u.speed > 0 ? (size - loaded) / 1e6 / u.speed : 0;
    u.row.dataset.percent = String(u.percent);
    u.row.dataset.events = String(u.events);
    u.row.dataset.speed = u.speed.toFixed(4);
    show(u, 'uploading', t('media.up.progress', { percent: u.percent, speed: fmtSpeed(u.speed), left: left >= 1 ? fmtSecs(left) : t('media.up.almost') }));
  }

  async function start(u) {
    u.started = performance.now();
    show(u, 'uploading', t('media.up.progress', { percent: 0, speed: fmtSpeed(0), left: '—' }));
    const fd = new FormData();
    fd.append('file', u.file, u.file.name);
    u.req = upload('/assets', fd, {
      onProgress: (loaded, total) => progress(u, loaded, total),
      onSent: () => {
        progress(u, u.file.size, u.file.size);
        show(u, 'storing', t('media.up.storing', { speed: fmtSpeed(u.speed) }));
      },
    });
    try {
      const a = await u.req.done;
      const secs = (performance.now() - u.started) / 1000;
      const had = assets.some((x) => x.sha256 === a.sha256);
      u.bar.value = 100;
      u.row.dataset.percent = '100';
      u.row.dataset.sha = a.sha256;
      const speed = mbps(u.file.size, secs * 1000);
      u.row.dataset.speed = speed.toFixed(4);
      finish(u, 'done', had ? t('media.up.dup')
        : t('media.up.done', { size: fmtBytes(u.file.size), secs: secs.toFixed(1), speed: fmtSpeed(speed) }));
      if (!had) assets.unshift({ ...a, used_by: [] });
      fresh.add(a.sha256);
      render();
      pg.tick(); // the server's list, in case others uploaded too
    } catch (err) {
      if (err.code === 'aborted') finish(u, 'cancelled', t('media.up.cancelled'));
      else if (!err.handled) finish(u, 'failed', t('media.up.failed', { msg: uploadError(err) }));
    } finally {
      pump();
    }
  }

  function uploadError(err) {
    if (err.code === 'too_large') return maxBytes ? t('media.err.too_large', { max: fmtBytes(maxBytes) }) : t('media.err.too_largeNoMax');
    if (has('media.err.' + err.code)) return t('media.err.' + err.code);
    return err.message;
  }

  function fmtSecs(s) {
    s = Math.ceil(s);
    return s < 60 ? t('dur.s', { s }) : t('dur.m', { m: Math.ceil(s / 60) });
  }

  // ---- the page ------------------------------------------------------------

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', { text: t('media.title') }), refreshBar(pg)),
    writer ? el('section', { class: 'card', id: 'm-upload' }, el('h2', { text: t('media.upload') }), drop,
      el('div', { class: 'm-queue-head' }, clearBtn), queueList) : null,
    el('section', { class: 'card' },
      el('div', { class: 'm-lib-head' }, el('h2', { text: t('media.library') }),
        el('div', { class: 'toolbar m-filters' }, typeSel, el('label', { class: 'inline', for: 'm-unused' }, unusedIn, ' ', t('media.filter.unused')), searchIn)),
      summary, m.error, m.ok, grid),
  ]);

  pg.poll(async () => {
    const resp = await api('GET', '/assets', undefined, { raw: true });
    const list = await resp.json();
    if (!pg.alive) return;
    setLimit(Number(resp.headers.get('X-Max-Upload-Bytes')) || 0);
    assets = (list || []).slice().sort((a, b) => compareText(b.created_at, a.created_at) || compareText(a.name, b.name));
    render();
  });
}
