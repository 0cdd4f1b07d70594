// The schedule calendar: one week (Monday to Sunday, Beijing time) of what
// a screen, or a group, plays, drawn from the server's timeline (the very
// code the screen runs, see playlists.Timeline). One colour per playlist,
// priorities on the blocks, urgent notices as a red edge, the default
// playlist hatched and the fallback page grey. Clicking a block explains
// it: which schedule, its priority, window and daypart in words, and why
// it wins at that time.
//
// A group's week is that of a screen directly in the group with no tags of
// its own and no schedule naming it (GET /groups/:id/timeline); the page
// says so, since a real screen may differ.
//
// Routes: #/calendar?screen=ID or ?group=ID, &week=YYYY-MM-DD (any day of
// the week); ?schedule=ID picks a screen or group the schedule reaches and
// the week it next plays.

import { el, append, api, enc, fmtDuration, absTime, lookups, loadLookups, refreshBar, parseTime, TZ_OFFSET } from './kit.js';
import { t, label, compareText } from './i18n.js';
import { describeAny } from './dayparts.js';
import { screenPage, knowScreens, screenName, searchBox } from './paging.js';
import { datePicker, isoDay, parseDay, beijingToday, mondayOf } from './datepicker.js';

const DAY = 86400000;
const BJ = 8 * 3600 * 1000;
// Drawing units: a day column is COL wide, a minute MIN tall, with the hour
// axis AXIS wide on the left and a header of HEAD.
const AXIS = 44;
const COL = 100;
const MIN = 0.5;
const W = AXIS + 7 * COL;
const H = 1440 * MIN;
const SVG = 'http://www.w3.org/2000/svg';
const COLOURS = 12;

// svg builds an SVG element; attributes only, text via textContent.
function svg(tag, attrs, ...children) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') n.textContent = v;
    else if (k === 'class') n.setAttribute('class', v);
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c) n.append(c);
  return n;
}

// colourOf is a stable colour class for a playlist id (FNV-1a).
export function colourOf(id) {
  let h = 0x811c9dc5;
  for (const ch of String(id)) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `pl-c${h % COLOURS}`;
}

// bjParts is the instant's Beijing day (a UTC-midnight Date) and its
// minutes after Beijing midnight.
function bjParts(ms) {
  const b = new Date(ms + BJ);
  return { day: new Date(Date.UTC(b.getUTCFullYear(), b.getUTCMonth(), b.getUTCDate())), min: b.getUTCHours() * 60 + b.getUTCMinutes() + b.getUTCSeconds() / 60 };
}

// minClock is minutes after midnight as HH:MM; the day's end is 24:00.
const minClock = (min) => {
  const m = Math.round(min);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

// weekInstant is 00:00 Beijing time on monday.
const weekInstant = (monday) => new Date(`${isoDay(monday)}T00:00:00${TZ_OFFSET}`);

export default function calendarView(pg, _arg, query) {
  let subject = query.get('screen') ? { kind: 'screen', id: query.get('screen') }
    : query.get('group') ? { kind: 'group', id: query.get('group') } : null;
  let monday = mondayOf(parseDay(query.get('week')) || beijingToday());
  let highlight = query.get('schedule') || '';
  // A ?schedule= link without a screen or group is resolved once the
  // lists are in; go() then names one, so this runs once.
  let resolvedSchedule = !highlight || !!subject;
  let data = { segs: [], schedules: new Map(), playlists: new Map(), screens: [], truncated: '', tz: '' };
  let selected = null; // the segment being explained

  const picker = el('select', { id: 'cal-subject', 'aria-label': t('cal.subject') });
  picker.addEventListener('change', () => {
    const [kind, id] = picker.value.split(':');
    subject = id ? { kind, id: decodeURIComponent(id) } : null;
    highlight = '';
    go();
  });
  // The picker offers the first screens matching a search (by name):
  // a district has thousands.
  let find = '';
  const findBox = searchBox('cal-find', (v) => {
    find = v;
    pg.tick();
  }, { placeholder: t('page.searchHint'), label: t('page.findScreens') });
  const weekLabel = el('span', { id: 'cal-week', class: 'cal-week' });
  const jump = datePicker({
    id: 'cal-jump', labelKey: 'cal.jump',
    onchange: (v) => {
      if (v) {
        monday = mondayOf(parseDay(v));
        go();
      }
    },
  });
  const nav = el('div', { class: 'toolbar cal-nav' },
    el('button', { type: 'button', id: 'cal-prev', onclick: () => step(-7) }, t('cal.prevWeek')),
    el('button', { type: 'button', id: 'cal-this', onclick: () => { monday = mondayOf(beijingToday()); go(); } }, t('cal.thisWeek')),
    el('button', { type: 'button', id: 'cal-next', onclick: () => step(7) }, t('cal.nextWeek')),
    weekLabel, el('label', { for: 'cal-jump', class: 'muted' }, t('cal.jump')), jump.node);
  const note = el('p', { id: 'cal-note', class: 'hint', hidden: true });
  const trunc = el('p', { id: 'cal-truncated', class: 'warn small', hidden: true });
  const legend = el('ul', { id: 'cal-legend', class: 'cal-legend' });
  const head = el('div', { class: 'cal-days', id: 'cal-days' });
  const chart = svg('svg', { id: 'cal-grid', class: 'cal-grid', viewBox: `0 0 ${W} ${H}`, role: 'group', 'aria-label': t('cal.gridLabel') });
  const empty = el('p', { id: 'cal-empty', class: 'muted empty', hidden: true });
  const explain = el('aside', { id: 'cal-explain', class: 'card cal-explain', 'aria-live': 'polite' });

  function step(days) {
    monday = new Date(monday.getTime() + days * DAY);
    go();
  }

  // go puts the choice into the address (so it can be shared and the back
  // button works); the hashchange draws the page again.
  function go() {
    const q = new URLSearchParams();
    if (subject) q.set(subject.kind, subject.id);
    q.set('week', isoDay(monday));
    if (highlight) q.set('schedule', highlight);
    const h = `#/calendar?${q}`;
    if (location.hash !== h) location.hash = h;
    else pg.tick();
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, t('cal.title')),
      el('div', { class: 'toolbar' }, el('label', { for: 'cal-subject' }, t('cal.subject')), picker, findBox.node, refreshBar(pg))),
    el('div', { class: 'card' }, nav, note, trunc, legend),
    el('div', { class: 'cal-layout' },
      el('section', { class: 'card cal-card' }, head, el('div', { class: 'cal-scroll' }, chart), empty),
      explain),
  ]);
  explainNothing();

  // pickFor chooses a screen or group for ?schedule=: one the schedule
  // names, else a screen it reaches, and the week it next plays.
  async function pickFor(s) {
    const tg = s.target || {};
    const screens = data.screens;
    if (tg.screens && tg.screens.length) subject = { kind: 'screen', id: tg.screens[0] };
    else if (tg.groups && tg.groups.length) subject = { kind: 'group', id: tg.groups[0] };
    else {
      // A screen carrying one of the tags, asked of the server tag by tag.
      let sc = null;
      for (const tag of tg.tags || []) {
        if (sc) break;
        sc = (await screenPage({ tags: [tag], limit: 1 })).screens[0] || null;
      }
      if (!(tg.tags && tg.tags.length)) sc = screens[0];
      subject = sc ? { kind: 'screen', id: sc.id } : lookups.groups[0] ? { kind: 'group', id: lookups.groups[0].id } : null;
    }
    const now = Date.now();
    const from = parseTime(s.from);
    const to = parseTime(s.to);
    if (from && from.getTime() > now) monday = mondayOf(bjParts(from.getTime()).day);
    else if (to && to.getTime() <= now) monday = mondayOf(bjParts(to.getTime() - 1).day);
  }

  pg.poll(async () => {
    const [schedules, pls, page] = await Promise.all([api('GET', '/schedules'), api('GET', '/playlists'),
      screenPage({ q: find, limit: 100 }), loadLookups()]);
    if (!pg.alive) return;
    data.schedules = new Map((schedules || []).map((s) => [s.id, s]));
    data.playlists = new Map((pls || []).map((p) => [p.id, p]));
    data.screens = page.screens;
    if (!resolvedSchedule) {
      resolvedSchedule = true;
      const s = data.schedules.get(highlight);
      if (s) {
        await pickFor(s);
        go();
        return;
      }
    }
    if (!subject && data.screens.length) subject = { kind: 'screen', id: data.screens[0].id };
    // The screen shown stays offered whatever the search finds.
    if (subject && subject.kind === 'screen' && !data.screens.some((s) => s.id === subject.id)) {
      await knowScreens([subject.id]);
      if (!pg.alive) return;
      data.screens = [{ id: subject.id, name: screenName(subject.id) }, ...data.screens];
    }
    fillPicker();
    const from = weekInstant(monday);
    const to = new Date(from.getTime() + 7 * DAY);
    weekLabel.textContent = t('cal.weekOf', { from: isoDay(monday), to: isoDay(new Date(monday.getTime() + 6 * DAY)) });
    if (!subject) {
      data.segs = [];
      draw();
      return;
    }
    const path = subject.kind === 'group' ? `/groups/${enc(subject.id)}/timeline` : `/screens/${enc(subject.id)}/timeline`;
    const resp = await api('GET', `${path}?from=${enc(from.toISOString())}&to=${enc(to.toISOString())}`, undefined, { raw: true });
    const segs = await resp.json();
    if (!pg.alive) return;
    data.segs = segs || [];
    data.truncated = resp.headers.get('X-Timeline-Truncated') || '';
    data.tz = resp.headers.get('X-Timeline-Timezone') || '';
    draw();
  }, () => 60000); // schedules change rarely; the refresh button is there

  function fillPicker() {
    const opt = (kind, id, text) => el('option', { value: `${kind}:${encodeURIComponent(id)}`, text });
    const groups = lookups.groups.slice().sort((a, b) => compareText(a.name || a.id, b.name || b.id));
    picker.replaceChildren(
      el('optgroup', { label: t('cal.screens') }, data.screens.map((s) => opt('screen', s.id, s.name || s.id))),
      el('optgroup', { label: t('cal.groups') }, groups.map((g) => opt('group', g.id, t('cal.groupOption', { name: g.name || g.id })))));
    if (subject) picker.value = `${subject.kind}:${encodeURIComponent(subject.id)}`;
  }

  const playlistName = (id) => (data.playlists.get(id) || {}).name || id;
  const scheduleName = (s) => s.name || playlistName(s.playlist);

  function draw() {
    const msgs = [];
    if (subject && subject.kind === 'group') msgs.push(t('cal.groupNote'));
    if (data.tz && data.tz !== 'Asia/Shanghai') msgs.push(t('cal.tzNote', { tz: data.tz }));
    note.textContent = msgs.join(' ');
    note.hidden = !msgs.length;
    trunc.hidden = !data.truncated;
    if (data.truncated) trunc.textContent = t('cal.truncated', { at: absTime(data.truncated) });

    // Day headers, today marked.
    const today = isoDay(beijingToday());
    head.replaceChildren(el('span', { class: 'cal-axis-head' }), ...Array.from({ length: 7 }, (_, i) => {
      const d = new Date(monday.getTime() + i * DAY);
      const iso = isoDay(d);
      return el('span', { class: 'cal-day' + (iso === today ? ' cal-today' : ''), dataset: { date: iso } },
        el('strong', { text: t(`sched.day.${d.getUTCDay()}`) }), ' ', el('span', { class: 'muted', text: iso.slice(5) }));
    }));

    // The grid: hour lines, then the blocks cut at Beijing midnights.
    const layers = [];
    for (let h = 0; h <= 24; h++) {
      layers.push(svg('line', { x1: AXIS, x2: W, y1: h * 60 * MIN, y2: h * 60 * MIN, class: h % 6 ? 'cal-hour' : 'cal-hour major' }));
      if (h < 24 && h % 2 === 0) {
        layers.push(svg('text', { x: AXIS - 6, y: h * 60 * MIN + 10, class: 'cal-hour-label', 'text-anchor': 'end', text: `${String(h).padStart(2, '0')}:00` }));
      }
    }
    for (let i = 0; i <= 7; i++) layers.push(svg('line', { x1: AXIS + i * COL, x2: AXIS + i * COL, y1: 0, y2: H, class: 'cal-col' }));
    const used = new Map(); // playlist → colour class, for the legend
    let hasDefault = false;
    let hasFallback = false;
    let hasUrgent = false;
    const weekFrom = weekInstant(monday).getTime();
    data.segs.forEach((seg, idx) => {
      const s0 = Math.max(new Date(seg.start).getTime(), weekFrom);
      const s1 = Math.min(new Date(seg.end).getTime(), weekFrom + 7 * DAY);
      if (seg.fallback) hasFallback = true;
      else {
        for (const p of seg.playlists || []) used.set(p, colourOf(p));
        if (seg.default) hasDefault = true;
      }
      if ((seg.urgent || []).length) hasUrgent = true;
      for (let a = s0; a < s1;) {
        const dayIdx = Math.floor((a - weekFrom) / DAY);
        const dayEnd = weekFrom + (dayIdx + 1) * DAY;
        const b = Math.min(s1, dayEnd);
        layers.push(block(seg, idx, dayIdx, (a - weekFrom - dayIdx * DAY) / 60000, (b - a) / 60000));
        a = b;
      }
    });
    chart.replaceChildren(...layers);
    empty.hidden = !!data.segs.length;
    empty.textContent = subject ? t('cal.noTimeline') : t('cal.noSubject');

    legend.replaceChildren(...[
      ...[...used.entries()].sort((a, b) => compareText(playlistName(a[0]), playlistName(b[0])))
        .map(([p, c]) => el('li', { dataset: { playlist: p } }, svgSwatch(c), playlistName(p))),
      hasDefault ? el('li', { class: 'cal-legend-default' }, svgSwatch('cal-default-swatch'), t('cal.legendDefault')) : null,
      hasFallback ? el('li', { class: 'cal-legend-fallback' }, svgSwatch('cal-fallback'), t('cal.legendFallback')) : null,
      hasUrgent ? el('li', { class: 'cal-legend-urgent' }, svgSwatch('cal-urgent'), t('cal.legendUrgent')) : null,
      el('li', { class: 'muted' }, t('cal.legendPriority'))].filter(Boolean));
    if (selected !== null) {
      const seg = data.segs.find((s) => s.start === selected.start && s.end === selected.end);
      if (seg) explainSeg(seg);
      else explainNothing();
    }
  }

  function svgSwatch(cls) {
    return svg('svg', { class: 'cal-swatch', viewBox: '0 0 12 12', 'aria-hidden': 'true' }, svg('rect', { x: 0, y: 0, width: 12, height: 12, rx: 2, class: cls }));
  }

  // segWords names a segment for the block's label and the explainer.
  function segTitle(seg) {
    if (seg.fallback) return t('cal.fallback');
    const names = (seg.playlists || []).map(playlistName).join(' + ');
    return seg.default ? t('cal.defaultTitle', { name: names }) : names;
  }

  function block(seg, idx, day, startMin, lenMin) {
    const x = AXIS + day * COL + 2;
    const y = startMin * MIN;
    const h = Math.max(lenMin * MIN, 1);
    const cls = ['cal-block'];
    if (seg.fallback) cls.push('cal-fallback');
    else cls.push(colourOf(seg.playlist));
    if (seg.default) cls.push('cal-default');
    if (highlight && (seg.schedules || []).includes(highlight)) cls.push('cal-hl');
    const words = t('cal.blockLabel', {
      day: t(`sched.day.${new Date(monday.getTime() + day * DAY).getUTCDay()}`),
      from: minClock(startMin), to: minClock(startMin + lenMin),
      what: segTitle(seg), priority: seg.fallback || seg.default ? '—' : seg.priority,
    });
    const g = svg('g', {
      class: cls.join(' '), role: 'button', tabindex: '0', 'aria-label': words,
      'data-seg': idx, 'data-playlist': seg.playlist || '', 'data-priority': seg.priority,
      'data-schedules': (seg.schedules || []).join(' '),
      onclick: () => explainSeg(seg),
      onkeydown: (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          explainSeg(seg);
        }
      },
    }, svg('title', { text: words }), svg('rect', { x, y, width: COL - 4, height: h, rx: 2, class: 'cal-rect' }));
    if ((seg.urgent || []).length) g.append(svg('rect', { x, y, width: 4, height: h, class: 'cal-urgent' }));
    if (h >= 13) {
      const tag = seg.fallback || seg.default ? '' : `P${seg.priority} `;
      const name = seg.fallback ? t('cal.fallbackShort') : (seg.playlists || []).map(playlistName).join('+');
      g.append(svg('text', { x: x + 6, y: y + 10, class: 'cal-text' }, svg('tspan', { class: 'cal-prio', text: tag }), svg('tspan', { text: clip(name, 14) })));
    }
    return g;
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

  function explainNothing() {
    selected = null;
    explain.replaceChildren(el('h2', {}, t('cal.explainTitle')), el('p', { class: 'muted', text: t('cal.explainHint') }));
  }

  function scheduleWords(s) {
    const window = s.from || s.to
      ? t('sched.windowRange', { from: s.from ? absTime(s.from) : t('sched.open'), to: s.to ? absTime(s.to) : t('sched.open') })
      : t('sched.always');
    return el('dl', { class: 'kv' },
      el('dt', { text: t('cal.exPlaylist') }), el('dd', { text: playlistName(s.playlist) }),
      el('dt', { text: t('cal.exPriority') }), el('dd', { class: 'cal-ex-priority', text: String(s.priority) }),
      el('dt', { text: t('cal.exWindow') }), el('dd', { text: window }),
      el('dt', { text: t('cal.exDaypart') }), el('dd', { class: 'cal-ex-rule', text: describeAny(s.cron, s.duration_s, fmtDuration) }));
  }

  function explainSeg(seg) {
    selected = seg;
    for (const n of chart.querySelectorAll('.cal-selected')) n.classList.remove('cal-selected');
    for (const n of chart.querySelectorAll(`g[data-seg="${data.segs.indexOf(seg)}"]`)) n.classList.add('cal-selected');
    const when = t('cal.exWhen', { from: absTime(seg.start), to: absTime(seg.end) });
    const parts = [el('h2', {}, t('cal.explainTitle')), el('p', { class: 'cal-ex-when', text: when })];
    const sch = (seg.schedules || []).map((id) => data.schedules.get(id) || { id, playlist: '', priority: seg.priority });
    let why;
    if (seg.fallback) {
      why = t('cal.whyFallback');
    } else if (seg.default) {
      why = t('cal.whyDefault', { name: playlistName(seg.playlist) });
    } else {
      const lost = (seg.outranked || []).map((id) => data.schedules.get(id)).filter(Boolean)
        .map((s) => t('cal.lostTo', { name: scheduleName(s), priority: s.priority }));
      if (sch.length > 1) why = t('cal.whyMerged', { n: sch.length, priority: seg.priority });
      else if (lost.length) why = t('cal.whyHigher', { priority: seg.priority });
      else why = t('cal.whyOnly');
      if (lost.length) why += ' ' + t('cal.outranked', { list: lost.join(t('cal.listSep')) });
    }
    parts.push(el('p', { class: 'cal-why', text: why }));
    for (const s of sch) {
      parts.push(el('section', { class: 'cal-ex-schedule', dataset: { schedule: s.id } },
        el('h3', {}, el('span', { class: 'cal-ex-name', text: s.playlist ? scheduleName(s) : s.id }), ' ',
          el('code', { class: 'muted small', text: s.id })),
        s.playlist ? scheduleWords(s) : el('p', { class: 'muted', text: t('cal.exUnknown') }),
        el('p', {}, el('a', { href: '#/schedules', text: t('cal.exEdit') }))));
    }
    if ((seg.urgent || []).length) {
      parts.push(el('p', { class: 'cal-ex-urgent' }, el('span', { class: 'tag', text: t('urgent.tag') }), ' ',
        t('cal.urgentOver', { list: seg.urgent.map((id) => (lookups.urgent.get(id) || {}).title || id).join(t('cal.listSep')) })));
    }
    if ((seg.items || []).length) {
      parts.push(el('h3', {}, t('cal.exRotation')),
        el('ol', { class: 'plain cal-ex-items' }, seg.items.slice(0, 12).map((it) => el('li', {},
          el('span', { text: it.title || it.id }), ' ', el('small', { class: 'muted', text: `${label('kind', it.kind)} · ${fmtDuration(it.duration_s)}` })))),
        seg.items.length > 12 ? el('p', { class: 'muted small', text: t('cal.exMore', { n: seg.items.length - 12 }) }) : null);
    }
    explain.replaceChildren(...parts.filter(Boolean));
  }
}
