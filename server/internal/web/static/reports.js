// Proof-of-play reports: what the screens showed between two days (Beijing
// time), for all screens, one group or one screen. Plays and airtime per
// day, per kind of content and per group as bar charts, a screen × day
// heat-map whose empty cells are days a screen showed nothing (dark, off
// or not reporting), and a CSV export of any grouping.
//
// The heat-map is paged by the server (GET /reports/heatmap): a district's
// 10,000 screens are a hundred rows at a time, by name or the darkest
// first, with a search, and the counts of all of them. The CSV export by
// screen and day stays the complete list.
//
// The charts are SVG drawn here from attributes, not a chart library: they
// are a handful of categorical bars, which a canvas time-series library
// (uPlot) does not draw well; SVG text stays selectable, translatable and
// readable by screen readers and tests; and nothing needs an exception to
// the page's no-inline-style rule.

import { el, append, api, enc, session, lookups, loadLookups, refreshBar, formMessages } from './kit.js';
import { t, label, compareText, fmtNumber } from './i18n.js';
import { datePicker, isoDay, parseDay, beijingToday } from './datepicker.js';
import { PAGE_SIZE, screenPage, pager, searchBox } from './paging.js';

const DAY = 86400000;
const SVG = 'http://www.w3.org/2000/svg';
const MAX_RANGE_DAYS = 366;
const GROUPINGS = ['item', 'screen', 'group', 'day', 'kind', 'screen_day'];

function svg(tag, attrs, ...children) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') n.textContent = v;
    else n.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c) n.append(c);
  return n;
}

const addDays = (d, n) => new Date(d.getTime() + n * DAY);
const hours = (secs) => secs / 3600;
const fmtHours = (secs) => t('rep.hours', { h: fmtNumber(Math.round(hours(secs) * 10) / 10) });

// fmtAirtime is seconds as the most readable unit.
function fmtAirtime(secs) {
  if (secs < 60) return t('rep.seconds', { s: fmtNumber(Math.round(secs)) });
  if (secs < 3600) return t('rep.minutes', { m: fmtNumber(Math.round(secs / 60)) });
  return fmtHours(secs);
}

// clip shortens text to about n narrow characters (a CJK one counts two).
function clip(s, n) {
  let w = 0;
  let out = '';
  for (const ch of String(s)) {
    w += ch.codePointAt(0) > 0x2e80 ? 2 : 1;
    if (w > n) return out + '…';
    out += ch;
  }
  return out;
}

// niceMax rounds a chart's top up to 1, 2 or 5 times a power of ten.
function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v);
}

// columnChart draws one value per day as vertical bars with a y axis.
// fmt(v, max) writes a value; floor is the least top of the axis.
function columnChart(id, titleKey, days, values, fmt, floor = 0) {
  const Wd = 720;
  const Ht = 220;
  const left = 56;
  const bottom = 24;
  const top = 8;
  const n = days.length;
  const max = niceMax(Math.max(floor, ...values));
  // 1 and 5 split into fifths, 2 into quarters: round ticks either way.
  const ticks = String(max)[0] === '2' ? 4 : 5;
  const bw = (Wd - left - 8) / Math.max(n, 1);
  const y = (v) => top + (Ht - top - bottom) * (1 - v / max);
  const nodes = [];
  for (let i = 0; i <= ticks; i++) {
    const v = (max * i) / ticks;
    nodes.push(svg('line', { x1: left, x2: Wd - 4, y1: y(v), y2: y(v), class: 'ch-grid' }),
      svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'ch-axis', text: fmt(v, max) }));
  }
  const every = Math.ceil(n / 10);
  days.forEach((d, i) => {
    const v = values[i];
    const x = left + i * bw;
    const bar = svg('rect', {
      x: x + bw * 0.15, width: Math.max(bw * 0.7, 1), y: y(v), height: Math.max(Ht - bottom - y(v), 0),
      class: v ? 'ch-bar' : 'ch-bar ch-zero', 'data-day': d, 'data-value': v,
    }, svg('title', { text: `${d}: ${fmt(v, v)}` }));
    nodes.push(bar);
    if (i % every === 0) nodes.push(svg('text', { x: x + bw / 2, y: Ht - 6, 'text-anchor': 'middle', class: 'ch-axis', text: d.slice(5) }));
  });
  return el('figure', { class: 'chart', id },
    el('figcaption', { text: t(titleKey) }),
    svg('svg', { viewBox: `0 0 ${Wd} ${Ht}`, class: 'ch-svg', role: 'img', 'aria-label': t(titleKey) }, nodes));
}

// barChart draws labelled horizontal bars: rows of { key, label, value, note }.
function barChart(id, titleKey, rows, fmt) {
  const Wd = 720;
  const rowH = 26;
  const labelW = 190;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const Ht = Math.max(rows.length * rowH + 4, rowH);
  const nodes = rows.flatMap((r, i) => {
    const y = i * rowH + 4;
    const w = ((Wd - labelW - 150) * r.value) / max;
    return [
      svg('text', { x: labelW - 8, y: y + 15, 'text-anchor': 'end', class: 'ch-label', text: clip(r.label, 24) }, svg('title', { text: r.label })),
      svg('rect', { x: labelW, y: y + 3, width: Math.max(w, r.value ? 2 : 0), height: rowH - 8, class: `ch-bar ${r.cls || ''}`, 'data-key': r.key, 'data-value': r.value }),
      svg('text', { x: labelW + w + 6, y: y + 15, class: 'ch-value', text: `${fmt(r.value)}${r.note ? ` · ${r.note}` : ''}` }),
    ];
  });
  return el('figure', { class: 'chart', id },
    el('figcaption', { text: t(titleKey) }),
    svg('svg', { viewBox: `0 0 ${Wd} ${Ht}`, class: 'ch-svg', role: 'img', 'aria-label': t(titleKey) }, nodes));
}

export default function reportsView(pg) {
  const m = formMessages('rep');
  const today = beijingToday();
  let range = { from: isoDay(addDays(today, -6)), to: isoDay(today) };
  let filter = { group: '', screen: '' };
  let darkCells = '…'; // the dark screen-days of the heat-map's last answer
  let refused = false; // the last query was refused (shown beside the filters)

  const fromDp = datePicker({ id: 'rep-from', labelKey: 'rep.from' });
  const toDp = datePicker({ id: 'rep-to', labelKey: 'rep.to' });
  fromDp.set(range.from);
  toDp.set(range.to);
  const groupSel = el('select', { id: 'rep-group', onchange: () => fillScreens() });
  const screenSel = el('select', { id: 'rep-screen' });
  const screensMore = el('p', { class: 'hint', id: 'rep-screens-more', hidden: true });
  const preset = (key, from, to) => el('button', {
    type: 'button', class: 'small', dataset: { preset: key },
    onclick: () => {
      fromDp.set(isoDay(from));
      toDp.set(isoDay(to));
      apply();
    },
  }, t(`rep.preset.${key}`));
  const monthStart = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
  const form = el('form', { id: 'rep-form', class: 'rep-filters', novalidate: true, onsubmit: (e) => { e.preventDefault(); apply(); } },
    el('div', { class: 'rep-field' }, el('label', { for: 'rep-from' }, t('rep.from')), fromDp.node),
    el('div', { class: 'rep-field' }, el('label', { for: 'rep-to' }, t('rep.to')), toDp.node),
    el('div', { class: 'rep-field' }, el('label', { for: 'rep-group' }, t('rep.group')), groupSel),
    el('div', { class: 'rep-field' }, el('label', { for: 'rep-screen' }, t('rep.screen')), screenSel, screensMore),
    el('div', { class: 'rep-field rep-go' }, el('button', { type: 'submit', class: 'primary', id: 'rep-apply' }, t('rep.apply'))),
    el('div', { class: 'presets rep-presets' },
      preset('last7', addDays(today, -6), today), ' ',
      preset('last30', addDays(today, -29), today), ' ',
      preset('thisMonth', monthStart, today), ' ',
      preset('lastMonth', new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 1, 1)), addDays(monthStart, -1))),
    el('p', { class: 'hint', text: t('rep.rangeHint') }));

  const summary = el('div', { class: 'counts', id: 'rep-summary' });
  const charts = el('div', { class: 'rep-charts', id: 'rep-charts' });
  const heat = el('div', { class: 'table-wrap', id: 'rep-heat' });
  const heatNote = el('p', { class: 'hint', id: 'rep-heat-note' });
  const heatCount = el('p', { class: 'muted', id: 'rep-heat-count', 'aria-live': 'polite' });
  // A new order or search starts from the first page of rows.
  const heatSort = el('select', { id: 'rep-heat-sort', onchange: () => { heatPages.reset(); loadHeat(); } },
    el('option', { value: 'name', text: t('rep.heat.byName') }),
    el('option', { value: 'dark', text: t('rep.heat.byDark') }));
  const heatSearch = searchBox('rep-heat-q', () => { heatPages.reset(); loadHeat(); },
    { placeholder: t('page.searchHint'), label: t('rep.heat.search') });
  const heatPages = pager('rep-heat-pager', () => loadHeat());
  let heatSeq = 0; // the latest heat-map request; an answer to an older one is dropped
  const csvBy = el('select', { id: 'rep-csv-by', onchange: () => csvLink() },
    GROUPINGS.map((g) => el('option', { value: g, text: t(`rep.by.${g}`) })));
  const csv = el('a', { id: 'rep-csv', class: 'button-link', download: '', text: t('rep.csv') });
  csv.addEventListener('click', downloadWithToken);

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, t('rep.title')), refreshBar(pg)),
    el('section', { class: 'card' }, form, m.error),
    summary,
    el('section', { class: 'card' }, el('h2', {}, t('rep.charts')), charts),
    el('section', { class: 'card' }, el('h2', {}, t('rep.heatTitle')), heatNote,
      el('div', { class: 'toolbar' }, el('label', { for: 'rep-heat-sort' }, t('rep.heat.sort')), heatSort, heatSearch.node),
      heatCount, heat, heatPages.node, heatLegend()),
    el('section', { class: 'card', id: 'rep-export' }, el('h2', {}, t('rep.export')),
      el('div', { class: 'toolbar' }, el('label', { for: 'rep-csv-by' }, t('rep.csvBy')), csvBy, csv),
      el('p', { class: 'hint', text: t('rep.csvHint') })),
  ]);

  function heatLegend() {
    return el('ul', { class: 'hm-legend' },
      el('li', {}, el('span', { class: 'hm-cell hm-0' }), t('rep.heat.dark')),
      el('li', {}, el('span', { class: 'hm-cell hm-1' }), el('span', { class: 'hm-cell hm-2' }), el('span', { class: 'hm-cell hm-3' }),
        el('span', { class: 'hm-cell hm-4' }), t('rep.heat.more')),
      el('li', {}, el('span', { class: 'hm-cell hm-na' }), t('rep.heat.na')));
  }

  // reportWindow is the query every report shares: the days and the filters.
  function reportWindow() {
    const from = `${range.from}T00:00:00+08:00`;
    const to = `${isoDay(addDays(parseDay(range.to), 1))}T00:00:00+08:00`;
    let q = `from=${enc(from)}&to=${enc(to)}&tz=Asia%2FShanghai`;
    if (filter.group) q += `&group=${enc(filter.group)}`;
    if (filter.screen) q += `&screen=${enc(filter.screen)}`;
    return q;
  }

  function query(groupBy, format) {
    return `/reports/plays?${reportWindow()}&group_by=${groupBy}${format ? `&format=${format}` : ''}`;
  }

  // heatQuery asks for the heat-map's page of rows: the pager's cursor is
  // the offset of its first row.
  function heatQuery() {
    let q = `/reports/heatmap?${reportWindow()}&sort=${heatSort.value}&limit=${PAGE_SIZE}&offset=${heatPages.cursor() || 0}`;
    if (heatSearch.value()) q += `&q=${enc(heatSearch.value())}`;
    return q;
  }

  // csvLink points the export at the report: a plain link works with the
  // session cookie (the browser downloads it as any file); a token
  // sign-in has no cookie, so the click fetches it with the token instead.
  function csvLink() {
    csv.href = '/api/v1' + query(csvBy.value, 'csv');
    csv.setAttribute('download', `plays-by-${csvBy.value}-${range.from}-${range.to}.csv`);
  }

  async function downloadWithToken(e) {
    if (session.mode === 'cookie') return;
    e.preventDefault();
    m.clear();
    try {
      const resp = await api('GET', query(csvBy.value, 'csv'), undefined, { raw: true });
      const url = pg.objectURL(await resp.blob());
      const a = el('a', { href: url, download: csv.getAttribute('download'), hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      if (!err.handled) m.fail(t('rep.csvFailed', { msg: err.message }));
    }
  }

  function apply() {
    m.clear();
    const f = fromDp.value();
    const to = toDp.value();
    if (!f || !to) return m.fail(t('rep.needDates'));
    if (f > to) return m.fail(t('rep.fromAfterTo'));
    if ((parseDay(to) - parseDay(f)) / DAY + 1 > MAX_RANGE_DAYS) return m.fail(t('rep.tooLong', { n: MAX_RANGE_DAYS }));
    range = { from: f, to };
    filter = { group: groupSel.value, screen: screenSel.value };
    heatPages.reset();
    pg.tick();
  }

  function fillGroups() {
    const keep = groupSel.value;
    groupSel.replaceChildren(el('option', { value: '', text: t('rep.allGroups') }),
      ...lookups.groups.slice().sort((a, b) => compareText(a.name || a.id, b.name || b.id))
        .map((g) => el('option', { value: g.id, text: g.name || g.id })));
    groupSel.value = keep;
  }

  // screensFor is what the screen filter offers for group g: the screens
  // directly in it (paging through at most MAX_SCREENS), or with no group
  // the first MAX_SCREENS by name; more is the total when that is not all
  // of them (the heat-map's search finds any screen). Answers are kept
  // until the next refresh.
  const MAX_SCREENS = 2000;
  let screensBy = new Map();
  function screensFor(g) {
    if (!screensBy.has(g)) {
      screensBy.set(g, (async () => {
        const out = [];
        let cursor = '';
        let total = 0;
        do {
          const page = await screenPage({ group: g, limit: 500, cursor });
          out.push(...page.screens);
          total = page.total;
          cursor = page.next;
        } while (cursor && out.length < MAX_SCREENS);
        const list = (g ? out.filter((s) => s.group === g) : out).sort((a, b) => compareText(a.name || a.id, b.name || b.id));
        return { list, more: cursor ? total : 0 };
      })().catch((err) => {
        screensBy.delete(g);
        throw err;
      }));
    }
    return screensBy.get(g);
  }

  // fillScreens offers the screens of the chosen group (directly in it).
  function fillScreens() {
    const g = groupSel.value;
    screensFor(g).then(({ list, more }) => {
      if (!pg.alive || groupSel.value !== g) return;
      screensMore.hidden = !more;
      screensMore.textContent = more ? t('rep.screensMore', { shown: fmtNumber(list.length), total: fmtNumber(more) }) : '';
      const keep = screenSel.value;
      screenSel.replaceChildren(el('option', { value: '', text: t('rep.allScreens') }),
        ...list.map((s) => el('option', { value: s.id, text: s.name || s.id })));
      screenSel.value = list.some((s) => s.id === keep) ? keep : '';
    }, (err) => {
      if (!err.handled) m.fail(err.message);
    });
  }

  pg.poll(async () => {
    screensBy = new Map();
    await loadLookups();
    fillGroups();
    fillScreens();
    csvLink();
    let byDay;
    let byKind;
    let byGroup;
    let heatPage;
    const seq = ++heatSeq;
    try {
      [byDay, byKind, byGroup, heatPage] = await Promise.all([
        ...['day', 'kind', 'group'].map((g) => api('GET', query(g))), api('GET', heatQuery())]);
    } catch (err) {
      // A refused query (an account limited to several groups must pick
      // one) is said beside the filters, not as a failed refresh.
      if (err.status !== 400) throw err;
      m.fail(t('rep.refused', { msg: err.message }));
      refused = true;
      return;
    }
    if (!pg.alive) return;
    if (refused) m.clear(); // clear our own refusal; apply()'s checks of the dates stay
    refused = false;
    if (seq === heatSeq) showHeat(heatPage);
    draw(byDay || [], byKind || [], byGroup || []);
  }, () => 60000);

  // loadHeat fetches the heat-map's current page (after a move of the
  // pager, a new order or search); a later request wins over an earlier.
  async function loadHeat() {
    const seq = ++heatSeq;
    let page;
    try {
      page = await api('GET', heatQuery());
    } catch (err) {
      if (seq !== heatSeq || !pg.alive || err.handled) return;
      m.fail(err.status === 400 ? t('rep.refused', { msg: err.message }) : err.message);
      return;
    }
    if (seq !== heatSeq || !pg.alive) return;
    showHeat(page);
  }

  // showHeat draws page, or the first page when the rows have become
  // fewer than the page's offset.
  function showHeat(page) {
    if (!page.rows.length && page.total && !heatPages.first()) {
      heatPages.reset();
      loadHeat();
      return;
    }
    drawHeat(page);
  }

  // drawHeat shows a page of the heat-map: one row per screen, one cell
  // per day, shaded on the scale of all pages (max_seconds).
  function drawHeat(page) {
    const heatDays = page.days || [];
    const maxSecs = Math.max(1, page.max_seconds || 0);
    const rows = (page.rows || []).map((r) => el('tr', { dataset: { screen: r.screen, dark: r.dark_days } },
      el('th', { scope: 'row', class: 'hm-name' }, r.gone ? el('span', { class: 'muted', text: r.name, title: t('rep.heat.gone') })
        : el('a', { href: '#/screen/' + encodeURIComponent(r.screen), text: r.name || r.screen })),
      heatDays.map((d, i) => {
        let cls = 'hm-na';
        let words = t('rep.heat.naCell', { day: d });
        if (r.plays[i]) {
          const f = r.seconds[i] / maxSecs;
          cls = `hm-${f > 0.75 ? 4 : f > 0.5 ? 3 : f > 0.25 ? 2 : 1}`;
          words = t('rep.heat.cell', { day: d, plays: fmtNumber(r.plays[i]), time: fmtAirtime(r.seconds[i]) });
        } else if (d > page.today) {
          words = t('rep.heat.futureCell', { day: d });
        } else if (!r.since || d >= r.since) {
          cls = 'hm-0 hm-dark';
          words = t('rep.heat.darkCell', { day: d });
        }
        return el('td', { class: `hm-cell ${cls}`, dataset: { day: d }, title: words, 'aria-label': words });
      }),
      el('td', { class: 'hm-total', text: fmtNumber(r.dark_days), title: t('rep.heat.darkDays') })));
    heat.replaceChildren(rows.length
      ? el('table', { class: 'hm', id: 'rep-heatmap' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: t('rep.screen') }),
          heatDays.map((d, i) => el('th', { scope: 'col', class: 'hm-day', title: d, text: i % Math.ceil(heatDays.length / 15) ? '' : d.slice(5) })),
          el('th', { scope: 'col', class: 'hm-total', text: t('rep.heat.darkDays') }))),
        el('tbody', {}, rows))
      : el('p', { class: 'muted empty', text: t('rep.noScreens') }));
    heatNote.textContent = page.capped ? t('rep.heatCapped', { n: heatDays.length }) : t('rep.heatHint');
    heatCount.textContent = t('rep.heat.count', { total: fmtNumber(page.total), dark: fmtNumber(page.dark_screens) });
    heatPages.show(rows.length, page.total, page.next_offset ? String(page.next_offset) : '');
    darkCells = fmtNumber(page.dark_cells);
    summary.querySelector('#rep-dark-cells .n')?.replaceChildren(darkCells);
  }

  function draw(byDay, byKind, byGroup) {
    const days = [];
    for (let d = parseDay(range.from); d <= parseDay(range.to); d = addDays(d, 1)) days.push(isoDay(d));
    const dayRow = new Map(byDay.map((r) => [r.key, r]));
    const plays = byDay.reduce((n, r) => n + r.plays, 0);
    const secs = byDay.reduce((n, r) => n + r.seconds, 0);

    summary.replaceChildren(
      count('rep-total-plays', t('rep.totalPlays'), fmtNumber(plays)),
      count('rep-total-time', t('rep.totalTime'), fmtAirtime(secs)),
      count('rep-active-days', t('rep.activeDays'), fmtNumber(byDay.filter((r) => r.plays > 0).length) + ' / ' + fmtNumber(days.length)),
      count('rep-dark-cells', t('rep.darkCells'), darkCells));

    if (!plays) {
      charts.replaceChildren(el('p', { class: 'muted empty', id: 'rep-no-plays', text: t('rep.noPlays', { from: range.from, to: range.to }) }));
      return;
    }
    const kindLabel = (k) => (k === 'urgent' ? t('rep.kindUrgent') : k ? label('kind', k) : t('rep.kindDeleted'));
    const groupName = (k) => (k ? lookups.groupNames.get(k) || k : t('rep.noGroup'));
    charts.replaceChildren(
      el('div', { class: 'columns' },
        columnChart('rep-day-plays', 'rep.chart.dayPlays', days, days.map((d) => (dayRow.get(d) || { plays: 0 }).plays), (v) => fmtNumber(v), 5),
        columnChart('rep-day-time', 'rep.chart.dayTime', days, days.map((d) => (dayRow.get(d) || { seconds: 0 }).seconds), fmtAirtimeAxis)),
      el('div', { class: 'columns' },
        barChart('rep-kind', 'rep.chart.kind', byKind.map((r) => ({ key: r.key, label: kindLabel(r.key), value: r.plays, note: fmtAirtime(r.seconds), cls: `kind-${r.key || 'none'}` }))
          .sort((a, b) => b.value - a.value), (v) => t('rep.plays', { n: fmtNumber(v) })),
        barChart('rep-group-chart', 'rep.chart.group', byGroup.map((r) => ({ key: r.key, label: groupName(r.key), value: r.plays, note: fmtAirtime(r.seconds) }))
          .sort((a, b) => b.value - a.value), (v) => t('rep.plays', { n: fmtNumber(v) }))));
  }

  // fmtAirtimeAxis writes an axis value in the unit its top calls for.
  function fmtAirtimeAxis(v, max) {
    const r = (x) => fmtNumber(Math.round(x * 10) / 10);
    if (max >= 3600) return t('rep.hours', { h: r(v / 3600) });
    if (max >= 60) return t('rep.minutes', { m: r(v / 60) });
    return t('rep.seconds', { s: r(v) });
  }

  function count(id, text, n) {
    return el('div', { class: 'count', id }, el('div', { class: 'n', text: n }), el('div', { class: 'muted', text }));
  }
}
