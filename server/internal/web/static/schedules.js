// schedules screen of the admin page: the form (playlist, target, days
// and times or a raw rule, a date window in Beijing time, priority) and
// the list, each rule in words with a link to the calendar week it plays.
// The form and the table are forms.js's; the target picker, the days
// and times with the raw rule under 高级 and the date windows are its
// custom controls.

import {
  el, append, absTime, fmtDuration, api, enc, lookups, loadLookups, beijingLocal, refreshBar, can,
  myOpenChangeSet, overlayDrafts, draftTag, TZ_OFFSET,
} from './kit.js';
import { targetChoices, representable, targetSummary } from './targets.js';
import { knowScreens } from './paging.js';
import { t, compareText } from './i18n.js';
import { WEEK, PRESETS, NTH, clock, toCron, fromCron, describe, crossesMidnight } from './dayparts.js';
import { datePicker } from './datepicker.js';
import { editForm, listTable } from './forms.js';

const bt = (key) => t(key);
const pad = (n) => String(n).padStart(2, '0');

// calendarHref opens the calendar on the week schedule id plays.
export const calendarHref = (id) => `#/calendar?schedule=${encodeURIComponent(id)}`;

export default function schedulesView(pg) {
  const writer = can('content.write'); // technicians and viewers get the list only
  let keepTarget = null; // the edited schedule's target while the form cannot show it whole and it is untouched
  let playlists = new Map();
  let screenNames = new Map();

  const target = targetChoices(pg.root, 's');
  const cronIn = el('input', { id: 's-cron', name: 'cron', autocomplete: 'off', spellcheck: 'false', placeholder: t('sched.cronPlaceholder') });
  const durIn = el('input', { id: 's-duration', name: 'duration_s', type: 'number', min: 1, step: 1, placeholder: t('sched.durPlaceholder') });
  const targetNote = el('p', { id: 's-target-note', class: 'warn small', hidden: true });

  // Weekdays and times instead of cron. The raw cron and duration under
  // 高级 stay what is saved: the pickers write them, and a saved rule the
  // pickers can show (minute hour * * weekdays) fills the pickers.
  const whenRadios = [['allday', 'sched.allDay'], ['daypart', 'sched.byDays']].map(([value]) => el('input', {
    type: 'radio', name: 's-when', id: `s-when-${value}`, value,
    onchange: () => (value === 'allday' ? setRaw('', '') : pickersToRaw()),
  }));
  const dayInputs = WEEK.map((d) => el('input', { type: 'checkbox', name: 's-day', value: String(d), onchange: () => pickersToRaw() }));
  const presetButtons = Object.keys(PRESETS).map((p) => el('button', {
    type: 'button', class: 'small', dataset: { preset: p },
    onclick: () => {
      for (const i of dayInputs) i.checked = PRESETS[p].includes(Number(i.value));
      nthSel.value = '0'; // these presets mean every week
      pickersToRaw();
    },
  }, bt(`sched.${p}`)));
  const timeSelect = (id, n, key) => el('select', { id, 'aria-label': t(key), onchange: () => pickersToRaw() },
    Array.from({ length: n }, (_, i) => el('option', { value: String(i), text: pad(i) })));
  const startH = timeSelect('s-start-h', 24, 'sched.start');
  const startM = timeSelect('s-start-m', 60, 'sched.start');
  const endH = timeSelect('s-end-h', 24, 'sched.end');
  const endM = timeSelect('s-end-m', 60, 'sched.end');
  // Only the nth weekday of the month ("the first Monday"): one day.
  const nthSel = el('select', { id: 's-nth', onchange: () => pickersToRaw() },
    NTH.map((n) => el('option', { value: String(n), text: n ? t(`sched.nthOpt.${n}`) : t('sched.nthEvery') })));

  // The date window: a day (YYYY-MM-DD, Beijing time) and a time of day.
  // The end is exclusive: to 2026-06-01 00:00 runs through 31 May.
  const windowField = (prefix) => {
    const date = datePicker({ id: `s-${prefix}`, labelKey: `sched.${prefix}` });
    const h = el('select', { id: `s-${prefix}-h`, 'aria-label': t('sched.hour') },
      Array.from({ length: 24 }, (_, i) => el('option', { value: String(i), text: pad(i) })));
    const m = el('select', { id: `s-${prefix}-m`, 'aria-label': t('sched.minute') },
      Array.from({ length: 60 }, (_, i) => el('option', { value: String(i), text: pad(i) })));
    return {
      node: el('span', { class: 'dp-when' }, date.node, ' ', el('span', { class: 'clock' }, h, ':', m)),
      set(rfc) {
        const v = beijingLocal(rfc || ''); // YYYY-MM-DDTHH:MM, Beijing wall clock
        date.set(v.slice(0, 10));
        h.value = v ? String(Number(v.slice(11, 13))) : '0';
        m.value = v ? String(Number(v.slice(14, 16))) : '0';
      },
      // value is '' for none, null for a bad date, else RFC 3339.
      value() {
        const d = date.value();
        if (!d) return d;
        return `${d}T${pad(Number(h.value))}:${pad(Number(m.value))}:00${TZ_OFFSET}`;
      },
    };
  };
  const fromW = windowField('from');
  const toW = windowField('to');
  const firstMonday = el('button', {
    type: 'button', class: 'small', dataset: { preset: 'firstMonday' },
    onclick: () => {
      for (const i of dayInputs) i.checked = i.value === '1';
      nthSel.value = '1';
      pickersToRaw();
    },
  }, t('sched.firstMonday'));
  const daypartBox = el('div', { id: 's-daypart', class: 'daypart', hidden: true },
    el('div', { class: 'presets' }, presetButtons.flatMap((b) => [b, ' ']), firstMonday),
    el('div', { class: 'days', id: 's-days', role: 'group', 'aria-label': t('sched.days') },
      dayInputs.map((i) => el('label', { class: 'inline day', title: t(`sched.day.${i.value}`) }, i, ' ', t(`sched.dayShort.${i.value}`)))),
    el('div', { class: 'clock-row' },
      el('label', { for: 's-start-h' }, bt('sched.start')), el('span', { class: 'clock' }, startH, ':', startM),
      el('label', { for: 's-end-h' }, bt('sched.end')), el('span', { class: 'clock' }, endH, ':', endM)),
    el('div', { class: 'clock-row' }, el('label', { for: 's-nth' }, t('sched.nthLabel')), nthSel,
      el('span', { class: 'hint', text: t('sched.nthHint') })),
    el('span', { class: 'hint', text: t('sched.timeHint') }));
  const ruleOut = el('span', { id: 's-rule', class: 'rule-words', role: 'status' });
  const overnightNote = el('p', { id: 's-overnight', class: 'hint', hidden: true });
  const cannotNote = el('p', { id: 's-cron-note', class: 'warn small', hidden: true });
  const advanced = el('details', { id: 's-advanced', class: 'advanced' }, el('summary', {}, bt('sched.advanced')),
    el('label', { for: 's-cron' }, t('sched.cronLabel'), el('span', { class: 'hint', text: t('sched.cronHint') })),
    cronIn,
    el('label', { for: 's-duration' }, t('sched.durLabel'), el('span', { class: 'hint', text: t('sched.durHint') })),
    durIn);
  const whenBox = el('fieldset', { id: 's-when' }, el('legend', {}, bt('sched.when')),
    whenRadios.map((r, i) => el('label', { class: 'inline' }, r, ' ', bt(i ? 'sched.byDays' : 'sched.allDay'))),
    daypartBox,
    el('p', { class: 'rule' }, el('span', { class: 'muted', text: t('sched.ruleLabel') }), ruleOut),
    overnightNote, cannotNote, advanced);

  const mode = () => (whenRadios.find((r) => r.checked) || { value: '' }).value;
  function setMode(v) {
    for (const r of whenRadios) r.checked = r.value === v;
    daypartBox.hidden = v !== 'daypart';
  }
  const readTime = (h, m) => Number(h.value) * 60 + Number(m.value);
  function writeTime(h, m, min) {
    h.value = String(Math.floor(min / 60));
    m.value = String(min % 60);
  }
  const pickerRule = () => ({
    days: dayInputs.filter((i) => i.checked).map((i) => Number(i.value)),
    start: readTime(startH, startM), end: readTime(endH, endM), nth: Number(nthSel.value),
  });
  function setPickers(r) {
    for (const i of dayInputs) i.checked = r.days.includes(Number(i.value));
    writeTime(startH, startM, r.start);
    writeTime(endH, endM, r.end);
    nthSel.value = String(r.nth || 0);
  }
  // nthNeedsOneDay: "the nth of the month" with other than one day ticked.
  const nthNeedsOneDay = () => mode() === 'daypart' && Number(nthSel.value) > 0 && pickerRule().days.length > 1;

  // pickersToRaw: the technician used the pickers, so they decide the rule.
  function pickersToRaw() {
    setMode('daypart');
    const c = toCron(pickerRule());
    cronIn.value = c ? c.cron : '';
    durIn.value = c ? String(c.duration_s) : '';
    showRule();
  }

  // setRaw shows a saved rule: in the pickers when they can, else under
  // 高级 with a note, leaving the raw values exactly as they were.
  function setRaw(cron, dur) {
    cronIn.value = cron;
    durIn.value = dur;
    rawToPickers();
  }
  function rawToPickers() {
    const cron = cronIn.value.trim();
    const r = cron ? fromCron(cron, Number(durIn.value)) : null;
    if (!cron) setMode('allday');
    else if (r) {
      setPickers(r);
      setMode('daypart');
    } else {
      setMode('');
      advanced.open = true;
    }
    showRule();
  }
  // A rule typed under 高级 updates the pickers and the words as it goes.
  cronIn.addEventListener('input', rawToPickers);
  durIn.addEventListener('input', rawToPickers);

  function showRule() {
    const cron = cronIn.value.trim();
    const d = Number(durIn.value);
    const r = cron ? fromCron(cron, d) : null;
    if (nthNeedsOneDay()) ruleOut.replaceChildren(t('sched.nthOneDay'));
    else if (mode() === 'daypart' && !cron) ruleOut.replaceChildren(...bt('sched.needDay'));
    else if (!cron) ruleOut.replaceChildren(...bt('sched.allDayRule'));
    else if (r) ruleOut.replaceChildren(describe(r));
    else ruleOut.replaceChildren(t('sched.rawRule', { cron, dur: fmtDuration(d) }));
    overnightNote.hidden = !(r && crossesMidnight(r.start, r.end));
    if (r) overnightNote.textContent = r.start === r.end ? t('sched.sameTime') : t('sched.overnight', { time: clock(r.end) });
    cannotNote.hidden = !(cron && !r);
    if (cron && !r) cannotNote.textContent = t('sched.cannotShow', { cron });
  }

  // Touching the target picker means the technician chose a new target.
  target.node.addEventListener('change', () => {
    keepTarget = null;
    targetNote.hidden = true;
  });

  const plName = (id) => (playlists.has(id) ? playlists.get(id).name : id);
  const windowControl = (w, prefix) => ({
    name: prefix, label: t(`sched.${prefix}`), hint: t(`sched.${prefix}Hint`), labelFor: `s-${prefix}`,
    control: w.node, get: () => w.value(), set: (v) => w.set(v),
  });

  const form = editForm({
    id: 'schedule',
    prefix: 's',
    titles: { create: t('sched.newTitle'), edit: t('sched.editTitle') },
    fields: [
      { name: 'name', label: t('sched.name'), maxlength: 200, autocomplete: 'off' },
      // '' (choose…) when editing a schedule whose playlist is gone: check asks for one.
      {
        name: 'playlist', label: t('sched.playlist'), type: 'select', initial: '',
        options: () => [{ value: '', text: t('sched.choosePlaylist') }].concat([...playlists.values()]
          .sort((a, b) => compareText(a.name, b.name))
          .map((p) => ({ value: p.id, text: t('sched.playlistOption', { name: p.name, n: (p.items || []).length }) }))),
      },
      {
        name: 'target', wide: true, control: el('div', { class: 's-target-field' }, target.node, targetNote),
        // A target the picker cannot show whole is kept as it was while untouched.
        get: () => (keepTarget ? { target: keepTarget } : target.value()),
        set: (tg) => {
          target.set(tg || null);
          keepTarget = representable(tg) ? null : tg;
          targetNote.textContent = keepTarget ? t('sched.targetNote', { target: targetSummary(tg, screenNames) }) : '';
          targetNote.hidden = !keepTarget;
        },
      },
      {
        name: 'cron', wide: true, control: whenBox,
        get: () => ({ cron: cronIn.value.trim(), dur: durIn.value }),
        set: (cron, s) => {
          advanced.open = false;
          setPickers({ days: PRESETS.everyday, start: 8 * 60, end: 18 * 60 });
          setRaw(cron || '', cron && s && s.duration_s ? String(s.duration_s) : '');
        },
      },
      windowControl(fromW, 'from'),
      windowControl(toW, 'to'),
      { name: 'priority', label: t('sched.priority'), hint: t('sched.priorityHint'), type: 'number', step: 1, initial: 0 },
    ],
    focus: 'playlist',
    // After a create the playlist, target and priority stay, for the next schedule alike.
    keepAfterCreate: ['playlist', 'target', 'priority'],
    // PUT replaces the whole schedule: what the form leaves empty
    // (name, cron, from, to) is cleared, as the form shows.
    body: (v) => {
      const body = { playlist: v.playlist, target: v.target.target, priority: v.priority === null ? 0 : v.priority };
      if (v.name) body.name = v.name;
      if (v.cron.cron) {
        body.cron = v.cron.cron;
        body.duration_s = Number(v.cron.dur);
      }
      if (v.from) body.from = v.from;
      if (v.to) body.to = v.to;
      return body;
    },
    check: (body, editing, v) => {
      if (!body.playlist) return t('sched.needPlaylist');
      if (v.target.problem) return v.target.problem;
      if (!Number.isInteger(body.priority)) return t('sched.priorityInt');
      if (nthNeedsOneDay()) return t('sched.nthOneDay');
      if (!v.cron.cron && mode() === 'daypart') return t('sched.needDay');
      if (v.cron.cron && (!v.cron.dur || !Number.isInteger(body.duration_s) || body.duration_s < 1)) return t('sched.needDuration');
      if (!v.cron.cron && v.cron.dur) return t('sched.durationOnlyCron');
      if (v.from === null) return t('sched.badDate', { field: t('sched.from') });
      if (v.to === null) return t('sched.badDate', { field: t('sched.to') });
      return '';
    },
    save: (body, editing) => (editing ? api('PUT', `/schedules/${enc(editing.id)}`, body) : api('POST', '/schedules', body)),
    savedText: (body, resp, editing) => t(editing ? 'sched.saved' : 'sched.created', { name: plName(body.playlist) }),
    onSaved: () => pg.tick(),
  });

  // when puts a saved rule into words in the list: the pickers' words
  // with the raw cron beside them, or the raw rule and its length.
  function when(s) {
    if (!s.cron) return el('span', { class: 's-rule', text: t('sched.allDayRule') });
    const r = fromCron(s.cron, s.duration_s);
    if (r) {
      return el('span', {}, el('span', { class: 's-rule', text: describe(r) }), ' ',
        el('code', { class: 'muted small', text: s.cron }));
    }
    return el('span', {}, el('code', { text: s.cron }), ' ', t('sched.eachFor', { dur: fmtDuration(s.duration_s) }));
  }

  const table = listTable({
    id: 'schedules',
    columns: [
      { head: t('sched.col.playlist'), cell: (s) => [el('span', { class: 's-playlist', text: plName(s.playlist) }),
        draftTag(s), s.name ? el('div', { class: 'muted small', text: s.name }) : null] },
      { head: t('sched.col.target'), class: 's-target', cell: (s) => targetSummary(s.target, screenNames) },
      { head: t('sched.col.when'), cell: when },
      { head: t('sched.col.window'), cell: (s) => (s.from || s.to
        ? t('sched.windowRange', { from: s.from ? absTime(s.from) : t('sched.open'), to: s.to ? absTime(s.to) : t('sched.open') })
        : t('sched.always')) },
      { head: t('sched.col.priority'), class: 'num', cell: (s) => String(s.priority) },
    ],
    rowClass: (s) => (s._draft ? 'draft-row' : ''),
    rowData: (s) => ({ playlist: s.playlist, draft: s._draft || '' }),
    actions: (s) => [
      s._draft === 'create' ? null : el('a', { href: calendarHref(s.id), class: 's-calendar', dataset: { calendar: s.id }, text: t('sched.calendar') }),
      writer ? [' ', form.editButton(s), ' ',
        form.deleteButton(s, { name: s.name || plName(s.playlist), remove: () => api('DELETE', `/schedules/${enc(s.id)}`) })] : null,
    ],
    empty: t('sched.none'),
  });

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, t('sched.title')),
      el('div', { class: 'toolbar' }, el('a', { href: '#/calendar', id: 's-to-calendar', text: t('sched.openCalendar') }), refreshBar(pg))),
    writer ? form.element : null,
    el('section', { class: 'card' }, el('h2', {}, t('sched.all')), table.element),
  ]);

  pg.poll(async () => {
    const [list, pls, , draft] = await Promise.all([api('GET', '/schedules'), api('GET', '/playlists'),
      loadLookups(), myOpenChangeSet()]);
    if (!pg.alive) return;
    const rows = overlayDrafts(list, draft, 'schedule');
    // The names of the screens the schedules target, by id: not the
    // whole fleet. The picker finds screens by searching.
    const [names] = await Promise.all([knowScreens(rows.flatMap((s) => (s.target && s.target.screens) || [])), target.refresh(lookups.groups)]);
    if (!pg.alive) return;
    playlists = new Map(overlayDrafts(pls, draft, 'playlist').map((p) => [p.id, p]));
    screenNames = names;
    form.refill();
    table.render(rows.slice().sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id)));
  });
}
