// schedules screen of the admin page: the form (playlist, target, days
// and times or a raw rule, a date window in Beijing time, priority) and
// the list, each rule in words with a link to the calendar week it plays.

import {
  el, append, absTime, fmtDuration, api, enc, lookups, loadLookups, beijingLocal, formMessages, confirmButton, refreshBar, can,
  myOpenChangeSet, overlayDrafts, draftTag, TZ_OFFSET,
} from './kit.js';
import { targetChoices, representable, targetSummary } from './targets.js';
import { t, compareText } from './i18n.js';
import { WEEK, PRESETS, NTH, clock, toCron, fromCron, describe, crossesMidnight } from './dayparts.js';
import { datePicker } from './datepicker.js';

const bt = (key) => t(key);
const pad = (n) => String(n).padStart(2, '0');

// calendarHref opens the calendar on the week schedule id plays.
export const calendarHref = (id) => `#/calendar?schedule=${encodeURIComponent(id)}`;

export default function schedulesView(pg) {
  const m = formMessages('schedule');
  const writer = can('content.write'); // technicians and viewers get the list only
  let editing = null; // the schedule being edited, or null for a new one
  let keepTarget = null; // editing's target while the form cannot show it whole and it is untouched
  let playlists = new Map();
  let screenNames = new Map();

  const heading = el('h2', { id: 'schedule-form-title' });

  const nameIn = el('input', { id: 's-name', name: 'name', maxlength: 200, autocomplete: 'off' });
  const plSel = el('select', { id: 's-playlist', name: 'playlist', required: true });
  const target = targetChoices(pg.root, 's');
  const cronIn = el('input', { id: 's-cron', name: 'cron', autocomplete: 'off', spellcheck: 'false', placeholder: t('sched.cronPlaceholder') });
  const durIn = el('input', { id: 's-duration', name: 'duration_s', type: 'number', min: 1, step: 1, placeholder: t('sched.durPlaceholder') });
  const prioIn = el('input', { id: 's-priority', name: 'priority', type: 'number', step: 1, value: '0' });
  const saveBtn = el('button', { type: 'submit', class: 'primary', id: 's-save' });
  const cancelBtn = el('button', { type: 'button', id: 's-cancel', onclick: () => reset() }, t('sched.cancel'));
  const targetNote = el('p', { id: 's-target-note', class: 'warn small', hidden: true });
  const tbody = el('tbody');

  // Weekdays and times instead of cron. The raw cron and duration under
  // 高级 stay what is saved: the pickers write them, and a saved rule the
  // pickers can show (minute hour * * weekdays) fills the pickers.
  const whenRadios = [['allday', 'sched.allDay'], ['daypart', 'sched.byDays']].map(([value, key]) => el('input', {
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
        const v = beijingLocal(rfc); // YYYY-MM-DDTHH:MM, Beijing wall clock
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

  function reset() {
    editing = null;
    keepTarget = null;
    heading.replaceChildren(t('sched.newTitle'));
    saveBtn.replaceChildren(t('sched.create'));
    cancelBtn.hidden = true;
    targetNote.hidden = true;
    for (const i of [nameIn, cronIn, durIn]) i.value = '';
    fromW.set('');
    toW.set('');
    plSel.value = '';
    prioIn.value = '0';
    target.set(null);
    advanced.open = false;
    setPickers({ days: PRESETS.everyday, start: 8 * 60, end: 18 * 60 });
    rawToPickers();
  }

  function edit(s) {
    editing = s;
    m.clear();
    heading.replaceChildren(t('sched.editTitle'), ' ', el('code', { text: s.id }));
    saveBtn.replaceChildren(t('sched.save'));
    cancelBtn.hidden = false;
    nameIn.value = s.name || '';
    plSel.value = s.playlist; // '' (choose…) if the playlist is gone: the check below asks for one
    target.set(s.target);
    keepTarget = representable(s.target) ? null : s.target;
    targetNote.textContent = keepTarget ? t('sched.targetNote', { target: targetSummary(s.target, screenNames) }) : '';
    targetNote.hidden = !keepTarget;
    advanced.open = false;
    setRaw(s.cron || '', s.cron && s.duration_s ? String(s.duration_s) : '');
    fromW.set(s.from);
    toW.set(s.to);
    prioIn.value = String(s.priority || 0);
    form.scrollIntoView({ block: 'start' });
    plSel.focus();
  }

  const form = el('form', { id: 'schedule-form', class: 'card form', method: 'post', novalidate: true, onsubmit: submit },
    heading,
    el('label', { for: 's-name' }, t('sched.name')), nameIn,
    el('label', { for: 's-playlist' }, t('sched.playlist')), plSel,
    target.node, targetNote,
    whenBox,
    el('label', { for: 's-from' }, t('sched.from'), el('span', { class: 'hint', text: t('sched.fromHint') })),
    fromW.node,
    el('label', { for: 's-to' }, t('sched.to'), el('span', { class: 'hint', text: t('sched.toHint') })),
    toW.node,
    el('label', { for: 's-priority' }, t('sched.priority'), el('span', { class: 'hint', text: t('sched.priorityHint') })),
    prioIn,
    el('div', { class: 'form-actions' }, saveBtn, ' ', cancelBtn),
    m.error, m.ok);

  async function submit(e) {
    e.preventDefault();
    m.clear();
    if (!plSel.value) return m.fail(t('sched.needPlaylist'));
    const tg = keepTarget ? { target: keepTarget } : target.value();
    if (tg.problem) return m.fail(tg.problem);
    const body = { playlist: plSel.value, target: tg.target, priority: Number(prioIn.value || '0') };
    if (!Number.isInteger(body.priority)) return m.fail(t('sched.priorityInt'));
    if (nameIn.value.trim()) body.name = nameIn.value.trim();
    const cron = cronIn.value.trim();
    if (nthNeedsOneDay()) return m.fail(t('sched.nthOneDay'));
    if (!cron && mode() === 'daypart') return m.fail(t('sched.needDay'));
    if (cron) {
      body.cron = cron;
      const d = Number(durIn.value);
      if (!durIn.value || !Number.isInteger(d) || d < 1) return m.fail(t('sched.needDuration'));
      body.duration_s = d;
    } else if (durIn.value) {
      return m.fail(t('sched.durationOnlyCron'));
    }
    const from = fromW.value();
    const to = toW.value();
    if (from === null) return m.fail(t('sched.badDate', { field: t('sched.from') }));
    if (to === null) return m.fail(t('sched.badDate', { field: t('sched.to') }));
    if (from) body.from = from;
    if (to) body.to = to;
    const plName = playlists.has(body.playlist) ? playlists.get(body.playlist).name : body.playlist;
    saveBtn.disabled = true;
    try {
      if (editing) {
        // PUT replaces the whole schedule: what the form leaves empty
        // (name, cron, from, to) is cleared, as the form shows.
        const r = await api('PUT', `/schedules/${enc(editing.id)}`, body);
        reset();
        m.saved(t('sched.saved', { name: plName }), r);
      } else {
        const r = await api('POST', '/schedules', body);
        for (const i of [nameIn, cronIn, durIn]) i.value = '';
        fromW.set('');
        toW.set('');
        rawToPickers();
        m.saved(t('sched.created', { name: plName }), r);
      }
      pg.tick();
    } catch (err) {
      if (!err.handled) m.fail(t(editing ? 'sched.saveFailed' : 'sched.createFailed', { msg: err.message }));
    } finally {
      saveBtn.disabled = false;
    }
  }

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

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, t('sched.title')),
      el('div', { class: 'toolbar' }, el('a', { href: '#/calendar', id: 's-to-calendar', text: t('sched.openCalendar') }), refreshBar(pg))),
    writer ? form : null,
    el('section', { class: 'card' }, el('h2', {}, t('sched.all')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'schedules' },
        el('thead', {}, el('tr', {}, el('th', {}, t('sched.col.playlist')), el('th', {}, t('sched.col.target')), el('th', {}, t('sched.col.when')),
          el('th', {}, t('sched.col.window')), el('th', { class: 'num' }, t('sched.col.priority')), el('th', {}, ''))),
        tbody))),
  ]);
  reset();

  pg.poll(async () => {
    const [list, pls, screens, , draft] = await Promise.all([api('GET', '/schedules'), api('GET', '/playlists'),
      api('GET', '/screens'), loadLookups(), myOpenChangeSet()]);
    if (!pg.alive) return;
    playlists = new Map(overlayDrafts(pls, draft, 'playlist').map((p) => [p.id, p]));
    screenNames = new Map((screens || []).map((s) => [s.id, s.name || s.id]));
    const keep = plSel.value;
    plSel.replaceChildren(el('option', { value: '', text: t('sched.choosePlaylist') }),
      ...[...playlists.values()].sort((a, b) => compareText(a.name, b.name))
        .map((p) => el('option', { value: p.id, text: t('sched.playlistOption', { name: p.name, n: (p.items || []).length }) })));
    if (playlists.has(keep)) plSel.value = keep;
    target.refresh(lookups.groups, screens || []);
    const scs = overlayDrafts(list, draft, 'schedule').slice().sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
    tbody.replaceChildren(...scs.map((s) => el('tr', { class: s._draft ? 'draft-row' : '', dataset: { id: s.id, playlist: s.playlist, draft: s._draft || '' } },
      el('td', {}, el('span', { class: 's-playlist', text: playlists.has(s.playlist) ? playlists.get(s.playlist).name : s.playlist }),
        draftTag(s), s.name ? el('div', { class: 'muted small', text: s.name }) : null),
      el('td', { class: 's-target', text: targetSummary(s.target, screenNames) }),
      el('td', {}, when(s)),
      el('td', {}, s.from || s.to
        ? t('sched.windowRange', { from: s.from ? absTime(s.from) : t('sched.open'), to: s.to ? absTime(s.to) : t('sched.open') })
        : t('sched.always')),
      el('td', { class: 'num', text: String(s.priority) }),
      el('td', { class: 'row-actions' },
        s._draft === 'create' ? null : el('a', { href: calendarHref(s.id), class: 's-calendar', dataset: { calendar: s.id }, text: t('sched.calendar') }),
        writer ? [' ',
          el('button', { type: 'button', class: 'small', dataset: { edit: s.id }, onclick: () => edit(s) }, t('sched.edit')), ' ',
          confirmButton(t('sched.delete'), t('sched.confirmDelete'), { delete: s.id }, async () => {
            try {
              const r = await api('DELETE', `/schedules/${enc(s.id)}`);
              if (editing && editing.id === s.id) reset();
              m.saved(t('sched.deleted'), r);
              pg.tick();
            } catch (err) {
              if (!err.handled) m.fail(t('sched.deleteFailed', { msg: err.message }));
            }
          })] : null))));
    if (!scs.length) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: t('sched.none') })));
  });
}
