// alerts screen of the admin page: what changed state (screens going
// offline, stale or degraded, and back), newest first, each screen linked
// to its detail page, with the webhook deliveries of each alert.

import {
  el, append, screenHref, timeEl, stateBadge, statusBadge, reasonsList, api,
} from './kit.js';
import { t } from './i18n.js';
import { alertSummary } from './phrases.js';

export default function alertsView(pg) {
  const tbody = el('tbody');
  const th = (key) => el('th', { text: t(key) });
  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', { text: t('alerts.title') }),
      el('div', { class: 'toolbar' }, el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick(), text: t('common.refresh') }))),
    el('div', { class: 'table-wrap card' }, el('table', { class: 'grid stack', id: 'alerts' },
      el('thead', {}, el('tr', {}, th('alerts.time'), th('alerts.kind'), th('alerts.summary'), th('alerts.screens'), th('alerts.webhooks'))),
      tbody)),
  ]);
  const td = (key, ...kids) => el('td', { dataset: { label: t(key) } }, ...kids);
  pg.poll(async () => {
    const list = await api('GET', '/alerts?limit=100');
    if (!pg.alive) return;
    tbody.replaceChildren(...(list || []).map((a) => el('tr', { dataset: { id: a.id, kind: a.kind } },
      td('alerts.time', timeEl(a.created_at)),
      td('alerts.kind', statusBadge('alert', a.kind, 'alertKind'), a.grouped ? el('span', { class: 'tag', text: t('alerts.grouped') }) : ''),
      td('alerts.summary', el('span', { title: a.summary || '', text: alertSummary(a) })),
      td('alerts.screens', el('ul', { class: 'plain' }, (a.screens || []).map((s) => el('li', {},
        el('a', { href: screenHref(s.screen), class: 'alert-screen', dataset: { screen: s.screen }, text: s.name || s.screen }), ' ',
        stateBadge(s.from), ' → ', stateBadge(s.to), reasonsList(s.reasons))))),
      td('alerts.webhooks', (a.deliveries || []).length
        ? el('ul', { class: 'plain' }, a.deliveries.map((d) => el('li', {},
          statusBadge('delivery', d.status, 'delivery'), ' ', el('code', { class: 'url', text: d.url || d.webhook }),
          el('span', { class: 'muted', text: ' · ' + t(d.last_code ? 'alerts.attemptsHTTP' : 'alerts.attempts', { n: d.attempts, code: d.last_code }) }),
          d.last_error ? el('div', { class: 'error small', text: d.last_error }) : null)))
        : el('span', { class: 'muted', text: t('alerts.noWebhooks') })))));
    if (!list || !list.length) tbody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: t('alerts.none') })));
  });
}
