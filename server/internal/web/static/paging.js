// Pages of screens. GET /screens answers one page at a time (ordered by
// name, then id; 100 by default, 500 at most) with the total and a cursor
// for the next page, because a district's 10,000 screens are megabytes of
// JSON. This module holds what the pages that show screens share: the
// request, the pager line under a list (previous, "1–100 of 250", next),
// a search box that waits for the typing to pause, screen names by id for
// pages that name a few screens (reports, review, targets), and the
// search-as-you-type screen picker of the forms that target screens.

import { el, api } from './kit.js';
import { t, fmtNumber } from './i18n.js';

export const PAGE_SIZE = 100;
// MAX_IDS is how many ids one GET /screens?id=… may name (the server's
// page limit).
const MAX_IDS = 100;
// NAMES_MS: names of screens are kept this long before they are asked
// again (a rename elsewhere shows after at most this).
const NAMES_MS = 60000;

// screensPath is GET /screens with filters: limit, cursor, state, group
// ('-' for screens in no group), tags (all of them), q (name or id
// contains, case ignored) and ids.
export function screensPath({ limit, cursor, state, group, tags, q, ids } = {}) {
  const p = new URLSearchParams();
  if (limit) p.set('limit', String(limit));
  if (cursor) p.set('cursor', cursor);
  if (state) p.set('state', state);
  if (group) p.set('group', group);
  for (const tag of tags || []) if (tag) p.append('tag', tag);
  if (q) p.set('q', q);
  for (const id of ids || []) p.append('id', id);
  const s = p.toString();
  return '/screens' + (s ? '?' + s : '');
}

// names: id → name of the screens seen lately; missing: ids the server
// did not find (deleted, or outside the person's groups).
const names = new Map();
const missing = new Set();
let namesAt = 0;

function freshNames() {
  if (Date.now() - namesAt > NAMES_MS) {
    names.clear();
    missing.clear();
    namesAt = Date.now();
  }
}

function remember(list) {
  freshNames();
  for (const s of list) {
    names.set(s.id, s.name || s.id);
    missing.delete(s.id);
  }
}

// screenPage fetches one page: { screens, next (cursor, '' on the last
// page), total }.
export async function screenPage(filters, opts) {
  const page = await api('GET', screensPath(filters), undefined, opts);
  const screens = (page && page.screens) || [];
  remember(screens);
  return { screens, next: (page && page.next_cursor) || '', total: (page && page.total) || 0 };
}

// screenName is the name of a screen seen lately, else its id.
export const screenName = (id) => names.get(id) || id;

// knowScreens makes sure the names of ids are known, asking the server
// only for those it has not seen lately (by id, a hundred a request), and
// returns a Map id → name of the ones that exist.
export async function knowScreens(ids) {
  freshNames();
  const want = [...new Set((ids || []).filter((id) => id && !names.has(id) && !missing.has(id)))];
  const chunks = [];
  for (let i = 0; i < want.length; i += MAX_IDS) chunks.push(want.slice(i, i + MAX_IDS));
  await Promise.all(chunks.map(async (chunk) => {
    await screenPage({ ids: chunk, limit: chunk.length });
    for (const id of chunk) if (!names.has(id)) missing.add(id);
  }));
  return new Map((ids || []).filter((id) => names.has(id)).map((id) => [id, names.get(id)]));
}

// pager is the line under a list of pages: previous, where this page
// sits, next. The server's cursors only go forward, so the pager keeps
// the cursors of the pages before this one; previous goes back one.
// onMove runs after a move; the caller loads the page of cursor().
export function pager(id, onMove, size = PAGE_SIZE) {
  let stack = ['']; // the cursor of every page up to this one
  let next = '';
  // A move waits for show(): a second click meanwhile would move from a
  // page not yet shown.
  const moved = () => {
    next = '';
    prev.disabled = nextB.disabled = true;
    onMove();
  };
  const range = el('span', { class: 'pager-range', id: `${id}-range`, 'aria-live': 'polite' });
  const prev = el('button', { type: 'button', id: `${id}-prev`, text: t('page.prev'), disabled: true, onclick: () => {
    if (stack.length < 2 || prev.disabled) return;
    stack.pop();
    moved();
  } });
  const nextB = el('button', { type: 'button', id: `${id}-next`, text: t('page.next'), disabled: true, onclick: () => {
    if (!next || nextB.disabled) return;
    stack.push(next);
    moved();
  } });
  const node = el('div', { class: 'pager', id }, prev, range, nextB);
  return {
    node,
    cursor: () => stack[stack.length - 1],
    first: () => stack.length === 1,
    // reset goes back to the first page (the filters changed).
    reset() {
      stack = [''];
      next = '';
    },
    // show says what the page just loaded holds: n screens of total,
    // and the cursor of the next page ('' on the last).
    show(n, total, nextCursor) {
      next = nextCursor || '';
      const from = (stack.length - 1) * size + 1;
      range.textContent = n ? t('page.range', { from: fmtNumber(from), to: fmtNumber(from + n - 1), total: fmtNumber(total) })
        : t('page.empty', { total: fmtNumber(total) });
      prev.disabled = stack.length < 2;
      nextB.disabled = !next;
      prev.hidden = nextB.hidden = stack.length < 2 && !next;
    },
  };
}

// searchBox is a search input that calls onChange(text) once the typing
// pauses (delay ms), at once on Enter, and not in the middle of composing
// Chinese with an input method.
export function searchBox(id, onChange, { delay = 300, placeholder = '', label = '' } = {}) {
  let timer = 0;
  let last = '';
  const fire = () => {
    clearTimeout(timer);
    const v = input.value.trim();
    if (v === last) return;
    last = v;
    onChange(v);
  };
  const input = el('input', {
    type: 'search', id, name: id, autocomplete: 'off', spellcheck: 'false', maxlength: 100, placeholder, 'aria-label': label || placeholder,
    oninput: (e) => {
      if (e.isComposing) return;
      clearTimeout(timer);
      timer = setTimeout(fire, delay);
    },
    oncompositionend: () => {
      clearTimeout(timer);
      timer = setTimeout(fire, delay);
    },
    onkeydown: (e) => {
      if (e.key === 'Enter') {
        e.preventDefault(); // not the form's submit
        fire();
      }
    },
  });
  return {
    node: input,
    value: () => last,
    clear() {
      clearTimeout(timer);
      input.value = '';
      last = '';
    },
  };
}

// screenChoices is the screens part of a form that targets screens: a
// search box and tick boxes for the first size screens that match (all of
// them in a small fleet), with the ticked screens kept at the top whatever
// the search shows. The node is a div.choices with id; its tick boxes are
// named field. refresh() reloads the matches; set(ids) ticks exactly ids
// (ids the server does not find are marked missing, so saving an edit
// does not silently drop them); value() lists the ticked ids.
export function screenChoices(id, field, size = 50) {
  const ticked = new Map(); // id → name; null: not found
  let results = [];
  let total = 0;
  let q = '';
  let seq = 0;
  const list = el('div', { class: 'choice-list' });
  const note = el('p', { class: 'muted small', hidden: true });
  const search = searchBox(`${id}-q`, (v) => {
    q = v;
    load().catch(() => {}); // the next refresh says what failed
  }, { placeholder: t('page.findHint', { n: fmtNumber(size) }), label: t('page.findScreens') });
  const node = el('div', { class: 'choices', id, hidden: true }, el('div', { class: 'choices-search' }, search.node), list, note);

  function render() {
    const shown = new Set(results.map((s) => s.id));
    const pinned = [...ticked].filter(([sid]) => !shown.has(sid)).map(([sid, name]) => ({ id: sid, name, missing: name === null }));
    const rows = pinned.concat(results);
    list.replaceChildren(...rows.map((x) => el('label', { class: 'inline choice' },
      el('input', { type: 'checkbox', name: field, value: x.id, checked: ticked.has(x.id), onchange: (e) => {
        if (e.target.checked) ticked.set(x.id, x.name || x.id);
        else ticked.delete(x.id);
      } }), ' ',
      x.missing ? el('span', { class: 'error', text: t('tgt.missing') }) : x.name || x.id,
      el('small', { class: 'muted', text: ` ${x.id}` }))));
    if (!rows.length) list.append(el('span', { class: 'muted', text: t('common.none') }));
    note.hidden = total <= results.length;
    note.textContent = t('page.moreMatches', { shown: fmtNumber(results.length), total: fmtNumber(total) });
  }

  async function load() {
    const my = ++seq;
    const page = await screenPage({ q, limit: size });
    if (my !== seq) return;
    results = page.screens;
    total = page.total;
    render();
  }

  return {
    node,
    refresh: load,
    set(ids) {
      ticked.clear();
      for (const sid of ids || []) ticked.set(sid, names.get(sid) || sid);
      render();
      if (!ids || !ids.length) return;
      knowScreens(ids).then((found) => {
        for (const sid of ids) if (ticked.has(sid)) ticked.set(sid, found.has(sid) ? found.get(sid) : null);
        render();
      }, () => {});
    },
    value: () => [...ticked.keys()],
  };
}
