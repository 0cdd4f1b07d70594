// The kit of the admin page: DOM building, formatting, the page lifecycle
// and the form helpers every screen module shares, with the API client and
// the signed-in session from api.js.
//
// Everything shown here was written by someone else (screen names, item
// titles, notice bodies, error messages), so the DOM is built only with
// createElement and textContent; no module assigns HTML. The CSP
// (script-src 'self', no inline) is the second line of defence.

import { t, label, lang, locale } from './i18n.js';
import { api, can, enc, inBackground, lookups, session } from './api.js';

// The API client and the session live in api.js; the kit hands them on.
export * from './api.js';
export const REFRESH_MS = 10000; // the fleet changes slowly; heartbeats come every few seconds
export const FAST_MS = 1000; // while a command the technician just sent is pending
export const FAST_FOR_MS = 30000;
export const TZ = 'Asia/Shanghai';
export const TZ_OFFSET = '+08:00'; // China keeps no daylight-saving time, so the offset is fixed
export const STATES = ['online', 'stale', 'degraded', 'offline'];

// ---- DOM helpers -------------------------------------------------------

export const $ = (sel, root = document) => root.querySelector(sel);

// el builds an element. Strings become text nodes, never markup; props
// set properties, attributes, listeners and data-* values.
export function el(tag, props, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') n.className = v;
    else if (k === 'text') n.textContent = v;
    else if (k === 'dataset') Object.assign(n.dataset, v);
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (['value', 'checked', 'disabled', 'hidden', 'required'].includes(k)) n[k] = v;
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  append(n, children);
  return n;
}

// append adds children (a node, a string or nested arrays of them) to n.
export function append(n, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    n.append(c instanceof Node ? c : String(c)); // append(string) makes a text node
  }
  return n;
}


// screenHref only ever builds a fragment from an encoded id, so a hostile
// id cannot become a javascript: URL.
export const screenHref = (id) => '#/screen/' + encodeURIComponent(id);

// ---- formatting --------------------------------------------------------

// Dates are Beijing time whatever the browser's zone, written the way the
// page's language writes them (English: "29 Nov 2026, 07:30:00").
const monthStyle = lang === 'en' ? 'short' : '2-digit';
export const absFormat = new Intl.DateTimeFormat(locale, {
  timeZone: TZ, year: 'numeric', month: monthStyle, day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});
export const dateFormat = new Intl.DateTimeFormat(locale, {
  timeZone: TZ, year: 'numeric', month: monthStyle, day: '2-digit',
});
export const clockFormat = new Intl.DateTimeFormat(locale, {
  timeZone: TZ, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

// parseTime returns a Date, or null for absent and Go zero times.
export function parseTime(s) {
  if (!s) return null;
  const d = new Date(s);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1971) return null;
  return d;
}

export function absTime(s) {
  const d = parseTime(s);
  return d ? absFormat.format(d) : '—';
}

const relFormat = new Intl.RelativeTimeFormat(locale, { numeric: 'always', style: 'long' });

export function relTime(s) {
  const d = parseTime(s);
  if (!d) return '—';
  const secs = Math.round((Date.now() - d.getTime()) / 1000);
  const a = Math.abs(secs);
  if (a < 10) return t('time.justNow');
  const sign = secs >= 0 ? -1 : 1;
  if (a < 60) return relFormat.format(sign * a, 'second');
  if (a < 3600) return relFormat.format(sign * Math.floor(a / 60), 'minute');
  if (a < 86400) return relFormat.format(sign * Math.floor(a / 3600), 'hour');
  return relFormat.format(sign * Math.floor(a / 86400), 'day');
}

// timeEl shows a relative time with the exact one on hover.
export function timeEl(s, never = '—') {
  const d = parseTime(s);
  if (!d) return el('span', { class: 'muted', text: never });
  return el('time', { datetime: d.toISOString(), title: t('time.beijing', { time: absTime(s) }) }, relTime(s));
}

export function fmtBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + units[i];
}

export function fmtOffset(ms) {
  if (typeof ms !== 'number') return el('span', { class: 'muted', text: '—' });
  const a = Math.abs(ms);
  const sign = ms > 0 ? '+' : ms < 0 ? '−' : '';
  const text = a < 1000 ? `${sign}${a} ms` : a < 120000 ? `${sign}${(a / 1000).toFixed(1)} s` : `${sign}${Math.round(a / 60000)} min`;
  // The server's default skew threshold is one minute; the state reasons
  // say when this screen crossed its real one.
  return el('span', { class: a >= 60000 ? 'warn' : '', title: `${ms} ms`, text });
}

export function fmtDuration(s) {
  if (typeof s !== 'number' || s <= 0) return '—';
  if (s < 60) return t('dur.s', { s });
  if (s < 3600) return t('dur.m', { m: Math.floor(s / 60) });
  if (s < 86400) return t('dur.hm', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
  return t('dur.dh', { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) });
}

export const shortVersion = (v) => (v ? String(v).slice(0, 8) : '—');

export function stateBadge(state) {
  if (!state) return el('span', { class: 'muted', title: t('state.none'), text: '—' });
  const s = STATES.includes(state) ? state : 'unknown';
  return el('span', { class: `badge state-${s}`, dataset: { state: s }, title: s, text: t('state.' + s) });
}

// statusBadge shows an enumeration value (a command's status, say) with
// the catalogue's prefix.value as its text.
export function statusBadge(kind, status, prefix) {
  const s = String(status || 'unknown');
  return el('span', { class: `badge ${kind}-${s.replace(/[^a-z-]/g, '')}`, dataset: { status: s }, title: s, text: label(prefix, s) });
}

export function reasonsList(reasons) {
  if (!Array.isArray(reasons) || reasons.length === 0) return null;
  return el('ul', { class: 'reasons' }, reasons.map((r) => el('li', { text: r })));
}

export function versionCell(applied, published, upToDate) {
  const mismatch = !!published && !upToDate;
  return el('span', {
    class: 'version' + (mismatch ? ' mismatch' : ''),
    title: t('version.title', { applied: applied || '—', published: published || '—' }),
  }, el('code', { text: shortVersion(applied) }), mismatch ? ' ≠ ' : ' = ', el('code', { text: shortVersion(published) }));
}


// L is t under its older name: a catalogue entry in the page's language.
export const L = t;


// itemLabel names what a screen shows: an item's title, an urgent
// notice's title, or the bare id when neither is known.
export function itemLabel(id) {
  if (!id) return el('span', { class: 'muted', text: '—' });
  const it = lookups.items.get(id);
  if (it) return el('span', { title: `${label('kind', it.kind)} · ${id}`, text: it.title });
  const u = lookups.urgent.get(id);
  if (u) return el('span', { class: 'urgent-label', title: id }, el('span', { class: 'tag', text: t('urgent.tag') }), ' ', u.title);
  return el('code', { text: id });
}

export function groupLabel(id) {
  if (!id) return el('span', { class: 'muted', text: '—' });
  const name = lookups.groupNames.get(id);
  return el('span', { title: id, text: name || id });
}

// ---- page lifecycle ----------------------------------------------------

// Page is one rendered view: its refresh loop and what to release when
// the technician moves on.
export class Page {
  constructor(root) {
    this.root = root;
    this.alive = true;
    this.timer = 0;
    this.running = false;
    this.again = false;
    this.urls = [];
    this.cleanups = [];
    this.delay = () => REFRESH_MS;
  }

  // onDispose runs fn when the person leaves the page (an upload in
  // flight is aborted, a window listener removed).
  onDispose(fn) {
    this.cleanups.push(fn);
  }

  // poll runs load now and again after each delay; a load never overlaps
  // the previous one, and a hidden tab does not fetch.
  poll(load, delay) {
    this.load = load;
    if (delay) this.delay = delay;
    this.tick();
  }

  async tick(background = false) {
    clearTimeout(this.timer);
    if (!this.alive || !this.load) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (!document.hidden) {
      this.running = true;
      // A timed refresh is not the person at work: it must not keep an
      // idle session alive (the server does not count such calls).
      try {
        await (background ? inBackground(() => this.load()) : this.load());
        if (this.alive) clearBanner();
      } catch (err) {
        if (this.alive && !err.handled) showBanner(t('common.refreshFailed', { msg: err.message }));
      } finally {
        this.running = false;
      }
    }
    if (!this.alive) return;
    if (this.again) {
      this.again = false;
      this.tick();
      return;
    }
    this.timer = setTimeout(() => this.tick(true), this.delay());
  }

  objectURL(blob) {
    const u = URL.createObjectURL(blob);
    this.urls.push(u);
    return u;
  }

  revoke(u) {
    if (!u) return;
    URL.revokeObjectURL(u);
    this.urls = this.urls.filter((x) => x !== u);
  }

  dispose() {
    this.alive = false;
    clearTimeout(this.timer);
    for (const fn of this.cleanups.splice(0)) {
      try {
        fn();
      } catch {
        // one failing clean-up must not keep the others from running
      }
    }
    for (const u of this.urls) URL.revokeObjectURL(u);
    this.urls = [];
  }
}

export function showBanner(msg) {
  const b = $('#banner');
  b.textContent = msg;
  b.hidden = false;
}

export function clearBanner() {
  $('#banner').hidden = true;
}
// ---- content: shared helpers -------------------------------------------

// beijingInstant turns a datetime-local value ("YYYY-MM-DDTHH:MM", seconds
// only if typed) into RFC 3339 in Beijing time, whatever the browser's zone.
export function beijingInstant(v) {
  return (v.length === 16 ? v + ':00' : v) + TZ_OFFSET;
}

// beijingLocal is the inverse for a form being edited: an RFC 3339 time
// (in any offset) as the datetime-local value of its Beijing wall clock,
// '' for none. The offset is fixed (see TZ_OFFSET), so adding it and
// reading the UTC fields is exact.
export function beijingLocal(s) {
  const d = parseTime(s);
  if (!d) return '';
  const iso = new Date(d.getTime() + 8 * 3600 * 1000).toISOString();
  return iso.slice(0, d.getUTCSeconds() ? 19 : 16);
}

export const shortFormat = new Intl.DateTimeFormat(locale, {
  timeZone: TZ, month: monthStyle, day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});

export function shortTime(s) {
  const d = parseTime(s);
  return d ? shortFormat.format(d) : '—';
}

// formMessages is the error and success lines beside a form. fail shows
// an API error ({"error"} already unpacked by api) or a local check.
export function formMessages(prefix) {
  const error = el('p', { id: `${prefix}-error`, class: 'error', role: 'alert', hidden: true });
  const ok = el('p', { id: `${prefix}-ok`, class: 'ok-text', role: 'status', hidden: true });
  return {
    error, ok,
    clear() {
      error.hidden = true;
      ok.hidden = true;
    },
    fail(text) {
      ok.hidden = true;
      error.textContent = text;
      error.hidden = false;
    },
    done(text) {
      error.hidden = true;
      ok.textContent = text;
      ok.hidden = false;
    },
    // saved is done for a content write: when the answer names a change
    // set (the write waits for review), it says so and links to it.
    saved(text, resp) {
      this.done(text);
      if (resp && resp.changeset) ok.append(' ', changesetNote(resp.changeset));
    },
  };
}

export const changesetHref = (id) => '#/review/' + encodeURIComponent(id);

// changesetNote tells an editor where a saved change went: it is on no
// screen until the change set is submitted and approved.
export function changesetNote(id) {
  return el('span', { class: 'changeset-note', dataset: { changeset: id } },
    t('cs.savedTo'), ' ', el('a', { href: changesetHref(id), text: id }), ' ', t('cs.pending'));
}

// thumbnails shows image assets from blob: URLs: an <img src> could not
// send a bearer token. The blobs are content-addressed, so each is fetched
// once per page (from the browser's cache when it has them) and released
// when the page goes. mimeOf(sha) may say what an asset is; unknown ones
// are fetched and judged by their type.
export function thumbnails(pg, mimeOf = () => '') {
  const loads = new Map(); // sha → Promise of {url, type}
  const done = new Map(); // sha → {url, type} once loaded, to draw without a flicker
  const img = (u) => el('img', { src: u, alt: t('media.thumbnail') });
  const label = (type, sha) => el('span', { class: 'muted', title: sha,
    text: type.startsWith('video/') ? t('media.video') : t('media.media') });
  return function thumbFor(sha) {
    const mime = mimeOf(sha) || '';
    if (mime && !mime.startsWith('image/')) return label(mime, sha);
    const got = done.get(sha);
    if (got) return el('span', { class: 'thumb', dataset: { sha } }, got.url ? img(got.url) : label(got.type, sha));
    const box = el('span', { class: 'thumb', dataset: { sha } }, el('span', { class: 'muted', text: '…' }));
    if (!loads.has(sha)) {
      loads.set(sha, (async () => {
        const resp = await api('GET', `/assets/${enc(sha)}/raw`, undefined, { raw: true, immutable: true });
        const blob = await resp.blob();
        if (!pg.alive) return { url: '', type: '' };
        const r = { url: blob.type.startsWith('image/') ? pg.objectURL(blob) : '', type: blob.type };
        done.set(sha, r);
        return r;
      })());
    }
    loads.get(sha).then((r) => {
      box.replaceChildren(r.url ? img(r.url) : label(r.type, sha));
    }, (err) => {
      loads.delete(sha); // try again on the next refresh
      box.replaceChildren(el('span', { class: 'error small', title: err.message, text: t('media.loadFailed') }));
    });
    return box;
  };
}

// confirmButton asks twice instead of using confirm(), like the urgent
// page's withdraw: a modal dialog would block the refresh loop and is
// easy to click through.
export function confirmButton(label, confirmLabel, dataset, action) {
  let armed = 0;
  const b = el('button', { type: 'button', class: 'danger small', dataset }, label);
  b.addEventListener('click', async () => {
    if (!armed) {
      b.textContent = confirmLabel;
      armed = setTimeout(() => {
        armed = 0;
        b.textContent = label;
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = 0;
    b.disabled = true;
    try {
      await action();
    } finally {
      b.disabled = false;
      b.textContent = label;
    }
  });
  return b;
}

export function refreshBar(pg) {
  return el('div', { class: 'toolbar' }, el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick(), text: t('common.refresh') }));
}

export function kindBadge(kind) {
  const k = String(kind || '');
  return el('span', { class: `badge kind-${k.replace(/[^a-z_]/g, '')}`, dataset: { kind: k }, title: k, text: k ? label('kind', k) : '?' });
}

// ---- drafts --------------------------------------------------------------

// myOpenChangeSet is the signed-in person's open change set with its
// changes, or null. Content lists come from the published state; laying
// this over them lets an editor see, edit and build on what they drafted
// (a new item can go into a playlist before anyone approves it).
export async function myOpenChangeSet() {
  if (!can('content.write') || session.breakglass || !session.review) return null;
  const open = await api('GET', '/changesets?state=open&mine=1');
  const first = (open || []).find((cs) => cs.state === 'open');
  return first ? api('GET', `/changesets/${enc(first.id)}`) : null;
}

// overlayDrafts returns list with cs's changes of kind laid over it: each
// drafted object as the set would leave it, marked with _draft (the action)
// and _cs (the set's id); a drafted delete keeps the published object,
// marked.
export function overlayDrafts(list, cs, kind) {
  list = list || [];
  if (!cs) return list;
  const out = new Map(list.map((o) => [o.id, o]));
  for (const c of cs.changes || []) {
    if (c.kind !== kind) continue;
    if (c.after) out.set(c.id, { ...c.after, id: c.id, _draft: c.action, _cs: cs.id });
    else if (out.has(c.id)) out.set(c.id, { ...out.get(c.id), _draft: 'delete', _cs: cs.id });
  }
  return [...out.values()];
}

// draftTag marks a drafted object in a list, linking to its change set.
export function draftTag(o) {
  if (!o || !o._draft) return null;
  const key = o._draft === 'delete' ? 'draft.delete' : o._draft === 'create' ? 'draft.create' : 'draft.update';
  return el('a', { class: 'tag draft', href: changesetHref(o._cs), title: t('draft.title', { cs: o._cs }), dataset: { draft: o._draft }, text: t(key) });
}
