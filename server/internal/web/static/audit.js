// Audit log (admins): who changed what, signed in or was refused, newest
// first, with filters (person, action, object, date range), older pages,
// a CSV export of what the filters select and the hash chain check.
//
// Dates are plain date inputs read as Beijing days, the way the server
// reads since and until (a day as the upper bound means its end).

import { el, append, api, absTime, formMessages, refreshBar, roleLabel } from './kit.js';
import { t, label, fmtNumber } from './i18n.js';

const PAGE = 200;

// ACTIONS are the action prefixes offered as suggestions; the filter
// matches any action starting with what is typed.
const ACTIONS = ['sign-in', 'sign-out', 'signin.failed', 'changeset.', 'POST ', 'PUT ', 'DELETE '];

export default function auditView(pg) {
  const m = formMessages('audit');
  const userIn = el('input', { id: 'audit-user', autocomplete: 'off', list: 'audit-users', placeholder: t('audit.userHint') });
  const actionIn = el('input', { id: 'audit-action', autocomplete: 'off', list: 'audit-actions', placeholder: t('audit.actionHint') });
  const objectIn = el('input', { id: 'audit-object', autocomplete: 'off', spellcheck: 'false', placeholder: t('audit.objectHint') });
  const sinceIn = el('input', { id: 'audit-since', type: 'date' });
  const untilIn = el('input', { id: 'audit-until', type: 'date' });
  const users = el('datalist', { id: 'audit-users' });
  const actions = el('datalist', { id: 'audit-actions' });
  const chain = el('span', { id: 'audit-chain', class: 'muted', role: 'status' });
  const count = el('p', { id: 'audit-count', class: 'muted small' });
  const tbody = el('tbody');
  const more = el('button', { type: 'button', id: 'audit-more', hidden: true, onclick: () => load(true) }, t('audit.older'));
  let oldest = 0;
  let shown = 0;
  const seenActors = new Set();
  const seenActions = new Set(ACTIONS);

  function query(extra) {
    const q = new URLSearchParams();
    if (userIn.value.trim()) q.set('user', userIn.value.trim());
    if (actionIn.value.trim()) q.set('action', actionIn.value.trim());
    if (objectIn.value.trim()) q.set('object', objectIn.value.trim());
    if (sinceIn.value) q.set('since', sinceIn.value);
    if (untilIn.value) q.set('until', untilIn.value);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, String(v));
    return q.toString();
  }

  // check is what the page can say before asking: a reversed range.
  function check() {
    if (sinceIn.value && untilIn.value && untilIn.value < sinceIn.value) return t('audit.badRange');
    return '';
  }

  // filterBy sets one filter from a cell of the table and applies it.
  const filterBy = (input, value) => (e) => {
    e.preventDefault();
    input.value = value;
    load(false);
  };

  function row(e) {
    const who = [e.role ? roleLabel(e.role) : '', e.via ? label('audit.via', e.via) : ''].filter(Boolean).join(' · ');
    return el('tr', { class: e.status >= 400 ? 'audit-refused' : '', dataset: { seq: e.seq, action: e.action } },
      el('td', { class: 'nowrap', text: absTime(e.time) }),
      el('td', {}, e.actor ? el('a', { href: '#/audit', class: 'audit-pick', title: t('audit.pick'), onclick: filterBy(userIn, e.actor), text: e.actor }) : '—',
        who ? el('div', { class: 'muted small', text: who }) : null),
      el('td', {}, el('code', { text: e.action || '' })),
      el('td', {}, e.target ? el('a', { href: '#/audit', class: 'audit-pick', title: t('audit.pick'), onclick: filterBy(objectIn, e.target) },
        el('code', { text: e.target })) : ''),
      el('td', { class: 'num' + (e.status >= 400 ? ' error' : ''), text: e.status ? String(e.status) : '' }),
      el('td', { class: 'u-body', text: e.detail || '' }),
      el('td', { class: 'muted small', text: e.ip || '' }));
  }

  function suggest(list) {
    for (const e of list) {
      if (e.actor) seenActors.add(e.actor);
      if (e.action) seenActions.add(e.action.split(' ').length > 1 ? e.action : e.action.replace(/\.[^.]*$/, '.'));
    }
    users.replaceChildren(...[...seenActors].sort().map((v) => el('option', { value: v })));
    actions.replaceChildren(...[...seenActions].sort().map((v) => el('option', { value: v })));
  }

  async function load(older) {
    m.clear();
    const problem = check();
    if (problem) {
      m.fail(problem);
      return;
    }
    try {
      const list = await api('GET', '/audit?' + query(older && oldest ? { limit: PAGE, before: oldest } : { limit: PAGE })) || [];
      if (!pg.alive) return;
      if (!older) {
        tbody.replaceChildren();
        shown = 0;
      }
      tbody.append(...list.map(row));
      shown += list.length;
      if (list.length) oldest = list[list.length - 1].seq;
      more.hidden = list.length < PAGE;
      suggest(list);
      count.textContent = shown ? t(more.hidden ? 'audit.countAll' : 'audit.countMore', { n: fmtNumber(shown) }) : '';
      if (!tbody.children.length) tbody.append(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: t('audit.none') })));
    } catch (err) {
      if (!err.handled) m.fail(t('audit.failed', { msg: err.message }));
    }
  }

  // The CSV comes through fetch, so a bearer token works as well as the
  // cookie; the browser saves it from a blob: URL.
  async function exportCSV() {
    m.clear();
    const problem = check();
    if (problem) {
      m.fail(problem);
      return;
    }
    try {
      const resp = await api('GET', '/audit.csv?' + query(), undefined, { raw: true });
      const url = pg.objectURL(await resp.blob());
      const a = el('a', { href: url, download: 'audit.csv', hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      if (!err.handled) m.fail(t('audit.failed', { msg: err.message }));
    }
  }

  async function verify() {
    chain.className = 'muted';
    chain.textContent = t('audit.verifying');
    try {
      const v = await api('GET', '/audit/verify');
      chain.className = v.ok ? 'ok-text' : 'error';
      chain.textContent = v.ok
        ? t('audit.chainOk', { n: fmtNumber(v.entries || 0) })
        : t('audit.chainBroken', { seq: v.broken_at, reason: v.reason || '' });
    } catch (err) {
      if (!err.handled) {
        chain.className = 'error';
        chain.textContent = err.message;
      }
    }
  }

  function clearFilters() {
    for (const i of [userIn, actionIn, objectIn, sinceIn, untilIn]) i.value = '';
    load(false);
  }

  const field = (id, key, input) => el('div', { class: 'audit-field' }, el('label', { for: id }, t(key)), input);

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, t('audit.title')), refreshBar(pg)),
    el('form', { class: 'card audit-filter', id: 'audit-filter', method: 'post', onsubmit: (e) => {
      e.preventDefault();
      load(false);
    } },
    el('div', { class: 'audit-fields' },
      field('audit-user', 'audit.actor', userIn), field('audit-action', 'audit.action', actionIn),
      field('audit-object', 'audit.target', objectIn),
      field('audit-since', 'audit.since', sinceIn), field('audit-until', 'audit.until', untilIn)),
    users, actions,
    el('div', { class: 'toolbar' },
      el('button', { type: 'submit', class: 'primary', id: 'audit-apply' }, t('audit.filter')),
      el('button', { type: 'button', id: 'audit-clear', onclick: clearFilters }, t('audit.clear')),
      el('button', { type: 'button', id: 'audit-export', onclick: exportCSV }, t('audit.export')),
      el('button', { type: 'button', id: 'audit-verify', onclick: verify }, t('audit.verify')),
      chain),
    el('p', { class: 'hint', text: t('audit.dateHint') })),
    m.error,
    el('section', { class: 'card' }, count, el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'audit' },
      el('thead', {}, el('tr', {}, el('th', {}, t('audit.time')), el('th', {}, t('audit.actor')), el('th', {}, t('audit.action')),
        el('th', {}, t('audit.target')), el('th', { class: 'num' }, t('audit.status')), el('th', {}, t('audit.detail')),
        el('th', {}, t('audit.ip')))),
      tbody)), more),
  ]);
  // No refresh loop: a log one is reading should not move under the
  // cursor. The Refresh button reloads the first page.
  pg.poll(() => load(false), () => 24 * 3600 * 1000);
}
