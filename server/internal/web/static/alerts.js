// alerts screen of the admin page.

import {
  el, append, bi, screenHref, timeEl, stateBadge, statusBadge, reasonsList, api,
} from './kit.js';
import { t } from './i18n.js';

export default function alertsView(pg) {
  const tbody = el('tbody');
  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, bi('告警', 'Alerts')),
      el('div', { class: 'toolbar' }, el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick() }, bi('刷新', 'Refresh')))),
    el('div', { class: 'table-wrap card' }, el('table', { class: 'grid', id: 'alerts' },
      el('thead', {}, el('tr', {}, el('th', {}, '时间'), el('th', {}, '类型'), el('th', {}, '摘要'),
        el('th', {}, '屏幕'), el('th', {}, bi('推送', 'Webhook delivery')))),
      tbody)),
  ]);
  pg.poll(async () => {
    const list = await api('GET', '/alerts?limit=100');
    if (!pg.alive) return;
    tbody.replaceChildren(...(list || []).map((a) => el('tr', { dataset: { id: a.id, kind: a.kind } },
      el('td', {}, timeEl(a.created_at)),
      el('td', {}, statusBadge('alert', a.kind, 'alertKind'), a.grouped ? el('span', { class: 'tag', text: '合并' }) : ''),
      el('td', { text: a.summary || '' }),
      el('td', {}, el('ul', { class: 'plain' }, (a.screens || []).map((s) => el('li', {},
        el('a', { href: screenHref(s.screen), text: s.name || s.screen }), ' ',
        stateBadge(s.from), ' → ', stateBadge(s.to), reasonsList(s.reasons))))),
      el('td', {}, (a.deliveries || []).length
        ? el('ul', { class: 'plain' }, a.deliveries.map((d) => el('li', {},
          statusBadge('delivery', d.status, 'delivery'), ' ', el('code', { class: 'url', text: d.url || d.webhook }),
          el('span', { class: 'muted' }, ` · ${d.attempts} 次尝试${d.last_code ? ' · HTTP ' + d.last_code : ''}`),
          d.last_error ? el('div', { class: 'error small', text: d.last_error }) : null)))
        : el('span', { class: 'muted', text: '未配置 webhook' })))));
    if (!list || !list.length) tbody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: '没有告警。No alerts.' })));
  });
}
