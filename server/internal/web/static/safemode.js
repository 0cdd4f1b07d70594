// safe-mode screen of the admin page, and the banner every page shows
// while safe mode is on somewhere.
//
// Safe mode is the one action for the day something wrong got out: the
// targeted screens show only the neutral slate (district, date, clock,
// 信息更新中) until it is lifted; urgent notices sent afterwards still
// show. Switching it on asks for the word 安全模式 to be typed, so it is
// never one stray click.

import {
  $, el, bi, api, enc, absTime, can, lookups, loadLookups,
} from './kit.js';
import { targetChoices, targetSummary } from './targets.js';

const CONFIRM_WORD = '安全模式';

// watchSafeMode keeps the banner (#safe-mode-on) in step with the server:
// now, then every 15 s as a background refresh (it must not keep an idle
// session open).
export function watchSafeMode() {
  const refresh = async (background = true) => {
    try {
      const list = await api('GET', '/safe-mode', undefined, { background });
      showSafeBanner((list || []).filter((m) => !m.lifted_at));
    } catch {
      // A refresh that fails says nothing new; the next one tries again.
    }
  };
  refresh(false);
  clearInterval(watchSafeMode.timer);
  watchSafeMode.timer = setInterval(refresh, 15000);
  watchSafeMode.refreshNow = () => refresh(false);
  return refresh;
}

function showSafeBanner(active) {
  const b = $('#safe-mode-on');
  if (!b) return;
  b.hidden = active.length === 0;
  b.replaceChildren();
  if (!active.length) return;
  const m = active[active.length - 1]; // the earliest still on
  b.append(
    el('strong', { text: '安全模式已开启 Safe mode is on' }), '：',
    `${targetSummary(m.target, new Map())} · 自 ${absTime(m.since)} · 由 ${m.by || '—'}`,
    active.length > 1 ? `（另有 ${active.length - 1} 处）` : '', ' ',
    el('a', { href: '#/safe-mode', text: '查看 / 解除 →' }));
}

export default function safeModeView(pg) {
  const msg = el('p', { id: 'safe-error', class: 'error', role: 'alert', hidden: true });
  const okMsg = el('p', { id: 'safe-ok', class: 'ok-text', role: 'status', hidden: true });
  const picker = targetChoices(pg.root, 'safe');
  const confirmIn = el('input', { id: 'safe-confirm', autocomplete: 'off', placeholder: CONFIRM_WORD });
  const startBtn = el('button', { type: 'submit', class: 'danger', id: 'safe-start', disabled: true }, bi('开启安全模式', 'Switch on'));
  confirmIn.addEventListener('input', () => { startBtn.disabled = confirmIn.value.trim() !== CONFIRM_WORD; });
  const tbody = el('tbody', { id: 'safe-list' });
  let screenNames = new Map();

  const form = el('form', { id: 'safe-form', class: 'card form', novalidate: true, onsubmit: start },
    el('h2', {}, bi('开启安全模式', 'Switch safe mode on')),
    el('p', { class: 'muted', text: '目标屏幕在 2 秒内只显示中性画面（区名、日期、时钟、“信息更新中”），离线的屏幕重新连上时立即执行。之后发送的紧急通知仍会显示。' }),
    picker.node,
    el('label', { for: 'safe-confirm' }, bi(`请输入“${CONFIRM_WORD}”以确认`, `type ${CONFIRM_WORD} to confirm`)), confirmIn,
    el('div', { class: 'form-actions' }, startBtn),
    msg, okMsg);

  async function start(e) {
    e.preventDefault();
    msg.hidden = okMsg.hidden = true;
    if (confirmIn.value.trim() !== CONFIRM_WORD) return;
    const v = picker.value();
    if (v.problem) {
      msg.textContent = v.problem;
      msg.hidden = false;
      return;
    }
    startBtn.disabled = true;
    try {
      const m = await api('POST', '/safe-mode', { target: v.target });
      okMsg.textContent = `安全模式已开启（${m.id}）：${targetSummary(m.target, screenNames)}。`;
      okMsg.hidden = false;
      confirmIn.value = '';
      watchSafeMode.refreshNow && watchSafeMode.refreshNow();
      pg.tick();
    } catch (err) {
      if (!err.handled) {
        msg.textContent = `开启失败 (rejected)：${err.message}`;
        msg.hidden = false;
      }
      startBtn.disabled = confirmIn.value.trim() !== CONFIRM_WORD;
    }
  }

  async function lift(m, btn) {
    btn.disabled = true;
    try {
      await api('DELETE', `/safe-mode/${enc(m.id)}`);
      watchSafeMode.refreshNow && watchSafeMode.refreshNow();
      pg.tick();
    } catch (err) {
      btn.disabled = false;
      if (!err.handled) {
        msg.textContent = `解除失败 (rejected)：${err.message}`;
        msg.hidden = false;
      }
    }
  }

  const list = el('section', { class: 'card' },
    el('h2', {}, bi('安全模式记录', 'Safe mode, in force and lifted in the last 7 days')),
    el('table', {}, el('thead', {}, el('tr', {},
      el('th', {}, bi('状态', 'State')), el('th', {}, bi('范围', 'Where')), el('th', {}, bi('开启', 'Since')),
      el('th', {}, bi('开启人', 'By')), el('th', {}, bi('解除', 'Lifted')), el('th', {}))), tbody));

  pg.root.replaceChildren(el('h1', {}, bi('安全模式', 'Safe mode')), list);
  if (can('safe_mode')) pg.root.append(form);

  pg.poll(async () => {
    const [modes, screens] = await Promise.all([api('GET', '/safe-mode'), api('GET', '/screens'), loadLookups()]);
    screenNames = new Map((screens || []).map((s) => [s.id, s.name || s.id]));
    picker.refresh(lookups.groups.map((g) => ({ id: g.id, name: g.name })), (screens || []).map((s) => ({ id: s.id, name: s.name })));
    tbody.replaceChildren(...(modes || []).map((m) => {
      const on = !m.lifted_at;
      const btn = el('button', { type: 'button', class: 'danger', dataset: { lift: m.id } }, bi('解除', 'Lift'));
      btn.addEventListener('click', () => lift(m, btn));
      return el('tr', { dataset: { safe: m.id, active: String(on) } },
        el('td', {}, on ? el('span', { class: 'badge warn', text: '生效中 on' }) : el('span', { class: 'badge', text: '已解除 lifted' })),
        el('td', { text: targetSummary(m.target, screenNames) }),
        el('td', { text: absTime(m.since) }),
        el('td', { text: m.by || '—' }),
        el('td', { text: on ? '—' : `${absTime(m.lifted_at)} · ${m.lifted_by || '—'}` }),
        el('td', {}, on && can('safe_mode') ? btn : ''));
    }));
    if (!(modes || []).length) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: '没有安全模式记录。' })));
  });
}
