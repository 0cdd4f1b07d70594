// schedules screen of the admin page.

import {
  el, append, bi, absTime, fmtDuration, api, enc, lookups, loadLookups, beijingInstant, beijingLocal, formMessages, confirmButton, refreshBar, can,
  myOpenChangeSet, overlayDrafts, draftTag,
} from './kit.js';
import { targetChoices, representable, targetSummary } from './targets.js';
import { t } from './i18n.js';
import { WEEK, PRESETS, clock, toCron, fromCron, describe, crossesMidnight } from './dayparts.js';

const bt = (key) => t(key);

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
  const cronIn = el('input', { id: 's-cron', name: 'cron', autocomplete: 'off', spellcheck: 'false', placeholder: '例如 0 7 * * 1-5' });
  const durIn = el('input', { id: 's-duration', name: 'duration_s', type: 'number', min: 1, step: 1, placeholder: '例如 3600' });
  const fromIn = el('input', { id: 's-from', name: 'from', type: 'datetime-local', step: 60 });
  const toIn = el('input', { id: 's-to', name: 'to', type: 'datetime-local', step: 60 });
  const prioIn = el('input', { id: 's-priority', name: 'priority', type: 'number', step: 1, value: '0' });
  const saveBtn = el('button', { type: 'submit', class: 'primary', id: 's-save' });
  const cancelBtn = el('button', { type: 'button', id: 's-cancel', onclick: () => reset() }, bi('取消编辑', 'Cancel'));
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
      pickersToRaw();
    },
  }, bt(`sched.${p}`)));
  const pad = (n) => String(n).padStart(2, '0');
  const timeSelect = (id, n, key) => el('select', { id, 'aria-label': t(key), onchange: () => pickersToRaw() },
    Array.from({ length: n }, (_, i) => el('option', { value: String(i), text: pad(i) })));
  const startH = timeSelect('s-start-h', 24, 'sched.start');
  const startM = timeSelect('s-start-m', 60, 'sched.start');
  const endH = timeSelect('s-end-h', 24, 'sched.end');
  const endM = timeSelect('s-end-m', 60, 'sched.end');
  const daypartBox = el('div', { id: 's-daypart', class: 'daypart', hidden: true },
    el('div', { class: 'presets' }, presetButtons.flatMap((b) => [b, ' '])),
    el('div', { class: 'days', id: 's-days', role: 'group', 'aria-label': t('sched.days') },
      dayInputs.map((i) => el('label', { class: 'inline day', title: t(`sched.day.${i.value}`) }, i, ' ', t(`sched.dayShort.${i.value}`)))),
    el('div', { class: 'clock-row' },
      el('label', { for: 's-start-h' }, bt('sched.start')), el('span', { class: 'clock' }, startH, ':', startM),
      el('label', { for: 's-end-h' }, bt('sched.end')), el('span', { class: 'clock' }, endH, ':', endM)),
    el('span', { class: 'hint', text: t('sched.timeHint') }));
  const ruleOut = el('span', { id: 's-rule', class: 'rule-words', role: 'status' });
  const overnightNote = el('p', { id: 's-overnight', class: 'hint', hidden: true });
  const cannotNote = el('p', { id: 's-cron-note', class: 'warn small', hidden: true });
  const advanced = el('details', { id: 's-advanced', class: 'advanced' }, el('summary', {}, bt('sched.advanced')),
    el('label', { for: 's-cron' }, bi('时段规则（可选）', 'Cron, optional'),
      el('span', { class: 'hint', text: '五段 cron：分 时 日 月 星期，按屏幕时区。例如 “0 7 * * 1-5” = 工作日 07:00 开始。留空 = 全天有效。' })),
    cronIn,
    el('label', { for: 's-duration' }, bi('每次持续（秒）', 'Duration, seconds'),
      el('span', { class: 'hint', text: '仅与时段规则一起使用：每次开始后持续多久，例如 3600 = 1 小时，最长 7 天。' })),
    durIn);
  const whenBox = el('fieldset', { id: 's-when' }, el('legend', {}, bt('sched.when')),
    whenRadios.map((r, i) => el('label', { class: 'inline' }, r, ' ', bt(i ? 'sched.byDays' : 'sched.allDay'))),
    daypartBox,
    el('p', { class: 'rule' }, el('span', { class: 'muted', text: `${t('sched.rule')}：` }), ruleOut),
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
    start: readTime(startH, startM), end: readTime(endH, endM),
  });
  function setPickers(r) {
    for (const i of dayInputs) i.checked = r.days.includes(Number(i.value));
    writeTime(startH, startM, r.start);
    writeTime(endH, endM, r.end);
  }

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
    if (mode() === 'daypart' && !cron) ruleOut.replaceChildren(...bt('sched.needDay'));
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
    heading.replaceChildren(bi('新建排期', 'New schedule'));
    saveBtn.replaceChildren(bi('创建', 'Create'));
    cancelBtn.hidden = true;
    targetNote.hidden = true;
    for (const i of [nameIn, cronIn, durIn, fromIn, toIn]) i.value = '';
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
    heading.replaceChildren(bi('编辑排期', 'Edit schedule'), ' ', el('code', { text: s.id }));
    saveBtn.replaceChildren(bi('保存', 'Save'));
    cancelBtn.hidden = false;
    nameIn.value = s.name || '';
    plSel.value = s.playlist; // '' (choose…) if the playlist is gone: the check below asks for one
    target.set(s.target);
    keepTarget = representable(s.target) ? null : s.target;
    targetNote.textContent = keepTarget
      ? `此排期的目标（${targetSummary(s.target, screenNames)}）含标签或多种类型，上面无法完整显示；不改动目标则按原样保存。`
      : '';
    targetNote.hidden = !keepTarget;
    advanced.open = false;
    setRaw(s.cron || '', s.cron && s.duration_s ? String(s.duration_s) : '');
    fromIn.value = beijingLocal(s.from);
    toIn.value = beijingLocal(s.to);
    prioIn.value = String(s.priority || 0);
    form.scrollIntoView({ block: 'start' });
    plSel.focus();
  }

  const form = el('form', { id: 'schedule-form', class: 'card form', method: 'post', novalidate: true, onsubmit: submit },
    heading,
    el('label', { for: 's-name' }, bi('名称（可选）', 'Name, optional')), nameIn,
    el('label', { for: 's-playlist' }, bi('播放列表', 'Playlist')), plSel,
    target.node, targetNote,
    whenBox,
    el('label', { for: 's-from' }, bi('开始于（可选）', 'From, optional'),
      el('span', { class: 'hint', text: '按北京时间（Asia/Shanghai, UTC+8）理解，与浏览器时区无关；留空 = 立即。' })),
    fromIn,
    el('label', { for: 's-to' }, bi('结束于（可选）', 'To, optional'), el('span', { class: 'hint', text: '北京时间；留空 = 一直有效。' })),
    toIn,
    el('label', { for: 's-priority' }, bi('优先级', 'Priority'),
      el('span', { class: 'hint', text: '同时生效的排期中，优先级最高的播放；相同优先级的合并轮播。' })),
    prioIn,
    el('div', { class: 'form-actions' }, saveBtn, ' ', cancelBtn),
    m.error, m.ok);

  async function submit(e) {
    e.preventDefault();
    m.clear();
    if (!plSel.value) return m.fail('请选择播放列表。playlist: is required');
    const tg = keepTarget ? { target: keepTarget } : target.value();
    if (tg.problem) return m.fail(tg.problem);
    const body = { playlist: plSel.value, target: tg.target, priority: Number(prioIn.value || '0') };
    if (!Number.isInteger(body.priority)) return m.fail('优先级须为整数。priority: must be an integer');
    if (nameIn.value.trim()) body.name = nameIn.value.trim();
    const cron = cronIn.value.trim();
    if (!cron && mode() === 'daypart') return m.fail(t('sched.needDay'));
    if (cron) {
      body.cron = cron;
      const d = Number(durIn.value);
      if (!durIn.value || !Number.isInteger(d) || d < 1) return m.fail('设置了时段规则时须填写每次持续的秒数。duration_s: required with cron');
      body.duration_s = d;
    } else if (durIn.value) {
      return m.fail('持续秒数只与时段规则一起使用；请填写规则或清空秒数。duration_s: only applies with cron');
    }
    if (fromIn.value) body.from = beijingInstant(fromIn.value);
    if (toIn.value) body.to = beijingInstant(toIn.value);
    const plName = playlists.has(body.playlist) ? playlists.get(body.playlist).name : body.playlist;
    saveBtn.disabled = true;
    try {
      if (editing) {
        // PUT replaces the whole schedule: what the form leaves empty
        // (name, cron, from, to) is cleared, as the form shows.
        const r = await api('PUT', `/schedules/${enc(editing.id)}`, body);
        reset();
        m.saved(`已保存排期：${plName}。Saved.`, r);
      } else {
        const r = await api('POST', '/schedules', body);
        for (const i of [nameIn, cronIn, durIn, fromIn, toIn]) i.value = '';
        rawToPickers();
        m.saved(`已创建排期：${plName}。Created.`, r);
      }
      pg.tick();
    } catch (err) {
      if (!err.handled) m.fail(`${editing ? '保存失败' : '创建失败'} (rejected)：${err.message}`);
    } finally {
      saveBtn.disabled = false;
    }
  }

  function when(s) {
    if (!s.cron) return el('span', {}, '全天 ', el('small', { class: 'en', text: 'always' }));
    const r = fromCron(s.cron, s.duration_s);
    if (r) {
      return el('span', {}, el('span', { class: 's-rule', text: describe(r) }), ' ',
        el('code', { class: 'muted small', text: s.cron }));
    }
    return el('span', {}, el('code', { text: s.cron }), ` 起 ${fmtDuration(s.duration_s)}`);
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, bi('排期', 'Schedules')), refreshBar(pg)),
    writer ? form : null,
    el('section', { class: 'card' }, el('h2', {}, bi('全部排期', 'All schedules')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'schedules' },
        el('thead', {}, el('tr', {}, el('th', {}, '播放列表'), el('th', {}, '目标'), el('th', {}, '时段'),
          el('th', {}, '有效期（北京时间）'), el('th', { class: 'num' }, '优先级'), el('th', {}, ''))),
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
    plSel.replaceChildren(el('option', { value: '', text: '选择播放列表… choose a playlist' }),
      ...[...playlists.values()].sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'))
        .map((p) => el('option', { value: p.id, text: `${p.name}（${(p.items || []).length} 项）` })));
    if (playlists.has(keep)) plSel.value = keep;
    target.refresh(lookups.groups, screens || []);
    const scs = overlayDrafts(list, draft, 'schedule').slice().sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
    tbody.replaceChildren(...scs.map((s) => el('tr', { class: s._draft ? 'draft-row' : '', dataset: { id: s.id, playlist: s.playlist, draft: s._draft || '' } },
      el('td', {}, el('span', { class: 's-playlist', text: playlists.has(s.playlist) ? playlists.get(s.playlist).name : s.playlist }),
        draftTag(s), s.name ? el('div', { class: 'muted small', text: s.name }) : null),
      el('td', { class: 's-target', text: targetSummary(s.target, screenNames) }),
      el('td', {}, when(s)),
      el('td', {}, s.from || s.to ? `${s.from ? absTime(s.from) : '不限'} – ${s.to ? absTime(s.to) : '不限'}` : '长期 always'),
      el('td', { class: 'num', text: String(s.priority) }),
      el('td', { class: 'row-actions' }, writer ? [
        el('button', { type: 'button', class: 'small', dataset: { edit: s.id }, onclick: () => edit(s) }, bi('编辑', 'Edit')), ' ',
        confirmButton('删除', '确认删除？', { delete: s.id }, async () => {
          try {
            const r = await api('DELETE', `/schedules/${enc(s.id)}`);
            if (editing && editing.id === s.id) reset();
            m.saved('已删除排期。Deleted.', r);
            pg.tick();
          } catch (err) {
            if (!err.handled) m.fail(`删除失败 (delete failed)：${err.message}`);
          }
        })] : null))));
    if (!scs.length) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: '还没有排期。No schedules yet.' })));
  });
}
