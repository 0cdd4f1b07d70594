// Audit log (admins): who changed what, signed in or was refused, newest
// first, with filters, older pages, a CSV export and the hash chain check.

import { el, append, api, L, absTime, formMessages, refreshBar, roleLabel } from './kit.js';
import { t } from './i18n.js';

const PAGE = 200;

export default function auditView(pg) {
  const m = formMessages('audit');
  const userIn = el('input', { id: 'audit-user', autocomplete: 'off', placeholder: t('audit.actor') });
  const actionIn = el('input', { id: 'audit-action', autocomplete: 'off', placeholder: t('audit.action') });
  const sinceIn = el('input', { id: 'audit-since', type: 'date' });
  const untilIn = el('input', { id: 'audit-until', type: 'date' });
  const chain = el('span', { id: 'audit-chain', class: 'muted' });
  const tbody = el('tbody');
  const more = el('button', { type: 'button', id: 'audit-more', hidden: true, onclick: () => load(true) }, '更早 ', el('small', { class: 'en', text: 'Older' }));
  let oldest = 0;

  function query(extra) {
    const q = new URLSearchParams();
    if (userIn.value.trim()) q.set('user', userIn.value.trim());
    if (actionIn.value.trim()) q.set('action', actionIn.value.trim());
    if (sinceIn.value) q.set('since', sinceIn.value);
    if (untilIn.value) q.set('until', untilIn.value);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, String(v));
    return q.toString();
  }

  function row(e) {
    return el('tr', { dataset: { seq: e.seq, action: e.action } },
      el('td', { class: 'nowrap', text: absTime(e.time) }),
      el('td', {}, el('div', { text: e.actor || '—' }),
        e.role || e.via ? el('div', { class: 'muted small', text: [e.role ? roleLabel(e.role) : '', e.via || ''].filter(Boolean).join(' · ') }) : null),
      el('td', { text: e.action || '' }),
      el('td', {}, e.target ? el('code', { text: e.target }) : ''),
      el('td', { class: 'num', text: e.status ? String(e.status) : '' }),
      el('td', { class: 'u-body', text: e.detail || '' }),
      el('td', { class: 'muted small', text: e.ip || '' }));
  }

  async function load(older) {
    m.clear();
    try {
      const list = await api('GET', '/audit?' + query(older && oldest ? { limit: PAGE, before: oldest } : { limit: PAGE })) || [];
      if (!pg.alive) return;
      if (!older) tbody.replaceChildren();
      tbody.append(...list.map(row));
      if (list.length) oldest = list[list.length - 1].seq;
      more.hidden = list.length < PAGE;
      if (!tbody.children.length) tbody.append(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: t('audit.none') })));
    } catch (err) {
      if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
    }
  }

  // The CSV comes through fetch, so a bearer token works as well as the
  // cookie; the browser saves it from a blob: URL.
  async function exportCSV() {
    try {
      const resp = await api('GET', '/audit.csv?' + query(), undefined, { raw: true });
      const url = pg.objectURL(await resp.blob());
      const a = el('a', { href: url, download: 'audit.csv', hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
    }
  }

  async function verify() {
    try {
      const v = await api('GET', '/audit/verify');
      chain.className = v.ok ? 'ok-text' : 'error';
      chain.textContent = v.ok
        ? `哈希链完整（${v.entries} 条）chain intact`
        : `哈希链在 #${v.broken_at} 处断开：${v.reason || ''}`;
    } catch (err) {
      if (!err.handled) chain.textContent = err.message;
    }
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, L('audit.title')), refreshBar(pg)),
    el('form', { class: 'card toolbar', id: 'audit-filter', method: 'post', onsubmit: (e) => {
      e.preventDefault();
      load(false);
    } }, userIn, actionIn, el('label', {}, '自 ', sinceIn), el('label', {}, '至 ', untilIn),
    el('button', { type: 'submit', class: 'primary' }, '筛选 ', el('small', { class: 'en', text: 'Filter' })),
    el('button', { type: 'button', id: 'audit-export', onclick: exportCSV }, '导出 CSV ', el('small', { class: 'en', text: 'Export' })),
    el('button', { type: 'button', id: 'audit-verify', onclick: verify }, '校验 ', el('small', { class: 'en', text: 'Verify chain' })),
    chain),
    m.error,
    el('section', { class: 'card' }, el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'audit' },
      el('thead', {}, el('tr', {}, el('th', {}, L('audit.time')), el('th', {}, L('audit.actor')), el('th', {}, L('audit.action')),
        el('th', {}, L('audit.target')), el('th', { class: 'num' }, L('audit.status')), el('th', {}, '说明'), el('th', {}, L('audit.ip')))),
      tbody)), more),
  ]);
  // No refresh loop: a log one is reading should not move under the
  // cursor. The Refresh button reloads the first page.
  pg.poll(() => load(false), () => 24 * 3600 * 1000);
}
