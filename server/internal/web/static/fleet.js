// fleet screen of the admin page: every screen's state at a glance, live.
//
// A cookie session listens to GET /fleet/events (server-sent events: the
// first lists every screen, later ones what changed, at most one a
// second); EventSource cannot send a bearer token, so a page signed in
// with one polls every ten seconds instead, and so does a page whose
// stream fails. The stream does not keep an idle session alive (the
// server treats it as background), like the timed refreshes.

import {
  STATES, REFRESH_MS, el, screenHref, clockFormat, timeEl, fmtBytes, fmtOffset, stateBadge, reasonsList, versionCell, api, lookups, loadLookups, itemLabel, groupLabel, session,
} from './kit.js';
import { t, compareText, fmtNumber } from './i18n.js';
import { versionsLine } from './releases.js';
import { groupOptions, subtree, knowGroups } from './screens.js';
import { PAGE_SIZE, screenPage, pager, searchBox } from './paging.js';

// LIVE_SLOW_MS: with the stream on, the timed refresh only keeps names,
// groups and player versions fresh.
const LIVE_SLOW_MS = 60000;
// STREAM_TRIES: failures in a row before the page gives up the stream
// and polls.
const STREAM_TRIES = 3;
// STREAM_RETRY_MS: a page that fell back to polling tries the stream
// again this long after its last attempt.
const STREAM_RETRY_MS = 60000;
// VERSIONS_EVERY_MS: the player versions line reloads at most this often
// when screens report new versions.
const VERSIONS_EVERY_MS = 5000;

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
    el('option', { value: '', text: t('fleet.allStates') }),
    STATES.map((s) => el('option', { value: s, text: t('state.' + s) })));
  stateSel.value = state;
  const groupSel = el('select', { id: 'filter-group', onchange: (e) => setFilter('group', e.target.value) },
    el('option', { value: '', text: t('fleet.allGroups') }));
  const updated = el('span', { class: 'muted updated' });
  const liveBadge = el('span', { id: 'live', class: 'live-badge', hidden: true, dataset: { live: 'off' } });
  const counts = el('div', { class: 'counts', id: 'counts' });
  const tbody = el('tbody');
  const empty = el('p', { class: 'muted empty', hidden: true });
  const versions = versionsLine(); // player versions and the roll-out, one line
  // A page of the list at a time: from the server while polling (its
  // cursors), from the stream's copy while live (offsets as cursors).
  let q = '';
  const pages = pager('fleet-pager', () => (live.on ? renderLive() : pg.tick()));
  const search = searchBox('fleet-q', (v) => {
    q = v;
    pages.reset();
    if (live.on) renderLive();
    else pg.tick();
  }, { placeholder: t('page.searchHint'), label: t('page.search') });

  const col = (key, cls) => el('th', { class: cls || null, text: t(key) });
  pg.root.append(
    el('div', { class: 'page-head' },
      el('h1', { text: t('fleet.title') }),
      el('div', { class: 'toolbar' },
        el('label', {}, t('fleet.state'), ' ', stateSel),
        el('label', {}, t('fleet.group'), ' ', groupSel),
        el('label', {}, t('page.search'), ' ', search.node),
        el('button', { type: 'button', id: 'refresh', onclick: () => refresh(), text: t('common.refresh') }),
        liveBadge, updated)),
    counts,
    versions.node,
    el('div', { class: 'table-wrap' },
      el('table', { class: 'grid stack', id: 'screens' },
        el('thead', {}, el('tr', {},
          col('fleet.col.name'), col('fleet.col.group'), col('fleet.col.state'), col('fleet.col.lastSeen'),
          col('fleet.col.current'), col('fleet.col.version'), col('fleet.col.cache', 'num'), col('fleet.col.offset', 'num'),
          col('fleet.col.player'))),
        tbody)),
    empty, pages.node);

  function renderGroups() {
    groupSel.replaceChildren(...groupOptions(lookups.groups, t('fleet.allGroups')));
    if (group && !lookups.groupNames.has(group)) groupSel.append(el('option', { value: group, text: group }));
    groupSel.value = group;
  }

  function renderCounts(fleet) {
    const by = (fleet && fleet.by_state) || {};
    const card = (key, text, n) => el('button', {
      type: 'button',
      class: `count count-${key}` + (state === key || (!state && key === 'all') ? ' selected' : ''),
      dataset: { state: key },
      onclick: () => setFilter('state', key === 'all' ? '' : key),
    }, el('span', { class: 'n', text: fmtNumber(n ?? 0) }), el('span', { class: 'label', text }));
    counts.replaceChildren(
      card('all', t('fleet.total'), fleet && fleet.total),
      ...STATES.map((s) => card(s, t('state.' + s), by[s])));
  }

  const cell = (key, props, ...kids) => el('td', { ...props, dataset: { label: t(key) } }, ...kids);

  function row(s) {
    return el('tr', { class: 'clickable', dataset: { screenId: s.id, state: s.state || '' }, onclick: (e) => {
      if (e.target.closest('a')) return; // the link navigates by itself
      location.hash = screenHref(s.id);
    } },
    cell('fleet.col.name', { class: 'name' }, el('a', { href: screenHref(s.id), class: 'screen-name', text: s.name || s.id }),
      el('div', { class: 'muted id', text: s.id })),
    cell('fleet.col.group', {}, groupLabel(s.group)),
    cell('fleet.col.state', {}, stateBadge(s.state), reasonsList(s.state_reasons)),
    cell('fleet.col.lastSeen', {}, timeEl(s.last_seen, t('common.never'))),
    cell('fleet.col.current', { class: 'current' }, itemLabel(s.current_item)),
    cell('fleet.col.version', {}, versionCell(s.applied_version, s.published_version, s.up_to_date)),
    cell('fleet.col.cache', { class: 'num' }, fmtBytes(s.cache_bytes)),
    cell('fleet.col.offset', { class: 'num' }, fmtOffset(s.clock_offset_ms)),
    cell('fleet.col.player', {}, s.player_version ? el('code', { text: s.player_version }) : el('span', { class: 'muted', text: '—' })));
  }

  // renderList shows one page of screens, in the order given.
  function renderList(list) {
    tbody.replaceChildren(...list.map(row));
    empty.hidden = list.length > 0;
    empty.replaceChildren(state || group || q ? t('fleet.noMatch') : t('fleet.none'));
    if (!state && !group && !q) empty.append(' ', el('a', { href: '#/screens', text: t('fleet.toScreens') }));
    updated.textContent = t('fleet.updated', { time: clockFormat.format(new Date()) });
  }

  // ---- live: the stream's copy of the fleet, filtered here ----------------

  const live = { es: null, on: false, fails: 0, tried: 0, screens: new Map(), fleet: null, versionsAt: 0 };

  function matches(s, groups, needle) {
    if (state && s.state !== state) return false;
    if (groups && !groups.has(s.group)) return false;
    if (needle && !(s.name || '').toLowerCase().includes(needle) && !s.id.toLowerCase().includes(needle)) return false;
    return true;
  }

  function renderLive() {
    renderCounts(live.fleet);
    const groups = group ? subtree(lookups.groups, group) : null;
    const needle = q.toLowerCase();
    const list = [...live.screens.values()].filter((s) => matches(s, groups, needle))
      .sort((a, b) => compareText(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let from = Number(pages.cursor()) || 0;
    if (from >= list.length && from > 0) {
      pages.reset(); // the list got shorter than this page
      from = 0;
    }
    const page = list.slice(from, from + PAGE_SIZE);
    pages.show(page.length, list.length, from + PAGE_SIZE < list.length ? String(from + PAGE_SIZE) : '');
    renderList(page);
  }

  function setLive(on) {
    if (live.on !== on) pages.reset(); // the server's cursors and the stream's offsets differ
    live.on = on;
    liveBadge.hidden = false;
    liveBadge.dataset.live = on ? 'on' : 'off';
    liveBadge.textContent = on ? t('fleet.live') : t('fleet.polling');
    liveBadge.title = on ? t('fleet.liveTitle') : t('fleet.pollingTitle');
  }

  function stopStream() {
    if (live.es) live.es.close();
    live.es = null;
  }

  function startStream() {
    if (session.mode !== 'cookie' || typeof EventSource !== 'function') {
      setLive(false);
      return;
    }
    const es = new EventSource('/api/v1/fleet/events');
    live.es = es;
    live.tried = Date.now();
    es.addEventListener('fleet', (e) => {
      if (!pg.alive) return stopStream();
      let ev;
      try {
        ev = JSON.parse(e.data);
      } catch {
        return;
      }
      if (ev.full) live.screens.clear();
      let newVersion = false;
      for (const s of ev.screens || []) {
        const was = live.screens.get(s.id);
        if (!ev.full && (!was || was.player_version !== s.player_version)) newVersion = true;
        live.screens.set(s.id, s);
      }
      // The player versions line counts versions: a screen reporting
      // another one changes it (at most one reload every few seconds).
      if (newVersion && Date.now() - live.versionsAt > VERSIONS_EVERY_MS) {
        live.versionsAt = Date.now();
        versions.refresh().catch(() => {});
      }
      for (const id of ev.removed || []) live.screens.delete(id);
      live.fleet = ev.fleet;
      live.fails = 0;
      if (!live.on) setLive(true);
      renderLive();
      const unknown = (ev.screens || []).map((s) => s.group);
      if (unknown.some((g) => g && !lookups.groupNames.has(g))) {
        knowGroups(unknown).then(() => {
          if (!pg.alive) return;
          renderGroups();
          renderLive();
        }, () => {});
      }
    });
    // The session ended (or the server is going down): stop listening
    // and let the next refresh find out and say so.
    es.addEventListener('end', () => {
      stopStream();
      setLive(false);
      pg.tick();
    });
    es.addEventListener('error', () => {
      if (!pg.alive) return stopStream();
      live.fails++;
      // EventSource retries by itself; after a refusal (CLOSED) or a few
      // failures in a row, poll instead.
      if (es.readyState === EventSource.CLOSED || live.fails >= STREAM_TRIES) {
        stopStream();
        setLive(false);
        pg.tick();
      }
    });
  }

  // The stream ends with the page.
  const dispose = pg.dispose.bind(pg);
  pg.dispose = () => {
    stopStream();
    dispose();
  };

  function refresh() {
    if (live.on) {
      // Start over: a fresh stream's first event lists everything.
      stopStream();
      live.on = false;
      startStream();
    }
    pg.tick();
  }

  pg.poll(async () => {
    const polling = !live.on;
    const pageOf = async () => {
      const query = { state, group, q, limit: PAGE_SIZE, cursor: pages.cursor() };
      try {
        return await screenPage(query);
      } catch (err) {
        if (err.code !== 'bad_cursor') throw err;
        pages.reset(); // an old cursor: the first page
        return screenPage({ ...query, cursor: '' });
      }
    };
    const [fleet, page] = await Promise.all([
      polling ? api('GET', '/fleet') : null,
      polling ? pageOf() : null,
      loadLookups(),
      versions.refresh(),
    ]);
    const screens = page && page.screens;
    if (screens) await knowGroups(screens.map((s) => s.group));
    if (!pg.alive) return;
    renderGroups();
    if (live.on) renderLive();
    else if (page) {
      renderCounts(fleet);
      if (!screens.length && !pages.first()) {
        pages.reset(); // the page emptied: the first one next time
        pg.tick();
      }
      pages.show(screens.length, page.total, page.next);
      renderList(screens);
    }
    if (!live.on) {
      // Polling works again after the stream failed (a server restart, a
      // proxy in between): try the stream again now and then.
      if (!live.es && Date.now() - live.tried > STREAM_RETRY_MS) startStream();
    }
  }, () => (live.on ? LIVE_SLOW_MS : REFRESH_MS));
  startStream();
}
