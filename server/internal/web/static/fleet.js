// fleet screen of the admin page.

import {
  STATES, el, append, bi, screenHref, clockFormat, timeEl, fmtBytes, fmtOffset, stateBadge, reasonsList, versionCell, api, lookups, loadLookups, itemLabel, groupLabel,
} from './kit.js';
import { t } from './i18n.js';
import { pairCard } from './pair.js';
import { versionsLine } from './releases.js';

export default function fleetView(pg, _arg, query) {
  const state = query.get('state') || '';
  const group = query.get('group') || '';
  const setFilter = (k, v) => {
    const q = new URLSearchParams({ state, group });
    q.set(k, v);
    for (const key of [...q.keys()]) if (!q.get(key)) q.delete(key);
    const s = q.toString();
    location.hash = '#/fleet' + (s ? '?' + s : '');
  };

  const stateSel = el('select', { id: 'filter-state', onchange: (e) => setFilter('state', e.target.value) },
    el('option', { value: '', text: '全部状态 All states' }),
    STATES.map((s) => el('option', { value: s, text: t('state.' + s) })));
  stateSel.value = state;
  const groupSel = el('select', { id: 'filter-group', onchange: (e) => setFilter('group', e.target.value) },
    el('option', { value: '', text: '全部分组 All groups' }));
  const updated = el('span', { class: 'muted updated' });
  const counts = el('div', { class: 'counts', id: 'counts' });
  const tbody = el('tbody');
  const empty = el('p', { class: 'muted empty', hidden: true });
  const versions = versionsLine(); // player versions and the roll-out, one line

  append(pg.root, [
    el('div', { class: 'page-head' },
      el('h1', {}, bi('设备总览', 'Fleet')),
      el('div', { class: 'toolbar' },
        el('label', {}, '状态 ', stateSel),
        el('label', {}, '分组 ', groupSel),
        el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick() }, bi('刷新', 'Refresh')),
        updated)),
    pairCard(pg), // 添加屏幕, for fleet.write
    counts,
    versions.node,
    el('div', { class: 'table-wrap' },
      el('table', { class: 'grid', id: 'screens' },
        el('thead', {}, el('tr', {},
          el('th', {}, bi('名称', 'Name')),
          el('th', {}, bi('分组', 'Group')),
          el('th', {}, bi('状态', 'State')),
          el('th', {}, bi('最后在线', 'Last seen')),
          el('th', {}, bi('当前内容', 'Current item')),
          el('th', {}, bi('版本 已应用/已发布', 'Applied/Published')),
          el('th', { class: 'num' }, bi('缓存', 'Cache')),
          el('th', { class: 'num' }, bi('时钟偏差', 'Clock offset')),
          el('th', {}, bi('播放器', 'Player')))),
        tbody)),
    empty,
  ]);

  function renderGroups() {
    const opts = [el('option', { value: '', text: '全部分组 All groups' })];
    for (const g of lookups.groups) opts.push(el('option', { value: g.id, text: g.name && g.name !== g.id ? `${g.name} (${g.id})` : g.id }));
    if (group && !lookups.groupNames.has(group)) opts.push(el('option', { value: group, text: group }));
    groupSel.replaceChildren(...opts);
    groupSel.value = group;
  }

  function renderCounts(fleet) {
    const by = (fleet && fleet.by_state) || {};
    const card = (key, label, en, n) => el('button', {
      type: 'button',
      class: `count count-${key}` + (state === key || (!state && key === 'all') ? ' selected' : ''),
      dataset: { state: key },
      onclick: () => setFilter('state', key === 'all' ? '' : key),
    }, el('span', { class: 'n', text: String(n ?? 0) }), el('span', { class: 'label' }, bi(label, en)));
    counts.replaceChildren(
      card('all', '全部', 'total', fleet && fleet.total),
      ...STATES.map((s) => card(s, t('state.' + s), s, by[s])));
  }

  function row(s) {
    return el('tr', { class: 'clickable', dataset: { screenId: s.id, state: s.state || '' }, onclick: (e) => {
      if (e.target.closest('a')) return; // the link navigates by itself
      location.hash = screenHref(s.id);
    } },
    el('td', { class: 'name' }, el('a', { href: screenHref(s.id), class: 'screen-name', text: s.name || s.id }),
      el('div', { class: 'muted id', text: s.id })),
    el('td', {}, groupLabel(s.group)),
    el('td', {}, stateBadge(s.state), reasonsList(s.state_reasons)),
    el('td', {}, timeEl(s.last_seen, '从未 never')),
    el('td', { class: 'current' }, itemLabel(s.current_item)),
    el('td', {}, versionCell(s.applied_version, s.published_version, s.up_to_date)),
    el('td', { class: 'num' }, fmtBytes(s.cache_bytes)),
    el('td', { class: 'num' }, fmtOffset(s.clock_offset_ms)),
    el('td', {}, s.player_version ? el('code', { text: s.player_version }) : el('span', { class: 'muted', text: '—' })));
  }

  pg.poll(async () => {
    const q = new URLSearchParams();
    if (state) q.set('state', state);
    if (group) q.set('group', group);
    const qs = q.toString();
    const [fleet, screens] = await Promise.all([
      api('GET', '/fleet'),
      api('GET', '/screens' + (qs ? '?' + qs : '')),
      loadLookups(),
      versions.refresh(),
    ]);
    if (!pg.alive) return;
    renderGroups();
    renderCounts(fleet);
    const list = (screens || []).slice().sort((a, b) => (a.name || '').localeCompare(b.name || '', 'zh-CN') || a.id.localeCompare(b.id));
    tbody.replaceChildren(...list.map(row));
    empty.hidden = list.length > 0;
    empty.textContent = state || group ? '没有符合筛选条件的屏幕。No screens match the filter.' : '还没有屏幕。No screens yet.';
    updated.textContent = '更新于 ' + clockFormat.format(new Date());
  });
}
