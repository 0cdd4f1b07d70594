// safe-mode screen of the admin page, and the banner every page shows
// while safe mode is on somewhere.
//
// Safe mode is the one action for the day something wrong got out: the
// targeted screens show only the neutral slate (district, date, clock,
// 信息更新中) until it is lifted; urgent notices sent afterwards still
// show. Switching it on asks for a word to be typed (安全模式, or SAFE MODE
// on the English page), so it is never one stray click.

import {
  $, el, api, enc, absTime, can, lookups, loadLookups,
} from './kit.js';
import { targetChoices, targetSummary } from './targets.js';
import { knowScreens } from './paging.js';
import { t } from './i18n.js';

const CONFIRM_WORD = t('safe.confirmWord');

// confirmed says whether the word was typed (any case: SAFE MODE, safe mode).
const confirmed = (input) => input.value.trim().toUpperCase() === CONFIRM_WORD.toUpperCase();

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
    el('strong', { text: t('safe.bannerOn') }), t('safe.bannerSep'),
    t('safe.bannerText', { where: targetSummary(m.target, new Map()), since: absTime(m.since), by: m.by || '—' }),
    active.length > 1 ? t('safe.bannerMore', { n: active.length - 1 }) : '', ' ',
    el('a', { href: '#/safe-mode', text: t('safe.bannerLink') }));
}

export default function safeModeView(pg) {
  const msg = el('p', { id: 'safe-error', class: 'error', role: 'alert', hidden: true });
  const okMsg = el('p', { id: 'safe-ok', class: 'ok-text', role: 'status', hidden: true });
  const picker = targetChoices(pg.root, 'safe');
  const confirmIn = el('input', { id: 'safe-confirm', autocomplete: 'off', placeholder: CONFIRM_WORD });
  const startBtn = el('button', { type: 'submit', class: 'danger', id: 'safe-start', disabled: true }, t('safe.start'));
  confirmIn.addEventListener('input', () => { startBtn.disabled = !confirmed(confirmIn); });
  const tbody = el('tbody', { id: 'safe-list' });
  let screenNames = new Map();

  const form = el('form', { id: 'safe-form', class: 'card form', novalidate: true, onsubmit: start },
    el('h2', {}, t('safe.startHeading')),
    el('p', { class: 'muted', text: t('safe.startHint') }),
    picker.node,
    el('label', { for: 'safe-confirm' }, t('safe.typeToConfirm', { word: CONFIRM_WORD })), confirmIn,
    el('div', { class: 'form-actions' }, startBtn),
    msg, okMsg);

  async function start(e) {
    e.preventDefault();
    msg.hidden = okMsg.hidden = true;
    if (!confirmed(confirmIn)) return;
    const v = picker.value();
    if (v.problem) {
      msg.textContent = v.problem;
      msg.hidden = false;
      return;
    }
    startBtn.disabled = true;
    try {
      const m = await api('POST', '/safe-mode', { target: v.target });
      okMsg.textContent = t('safe.started', { id: m.id, where: targetSummary(m.target, screenNames) });
      okMsg.hidden = false;
      confirmIn.value = '';
      watchSafeMode.refreshNow && watchSafeMode.refreshNow();
      pg.tick();
    } catch (err) {
      if (!err.handled) {
        msg.textContent = t('safe.startFailed', { msg: err.message });
        msg.hidden = false;
      }
      startBtn.disabled = !confirmed(confirmIn);
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
        msg.textContent = t('safe.liftFailed', { msg: err.message });
        msg.hidden = false;
      }
    }
  }

  const list = el('section', { class: 'card' },
    el('h2', {}, t('safe.records')),
    el('table', {}, el('thead', {}, el('tr', {},
      el('th', {}, t('safe.state')), el('th', {}, t('safe.where')), el('th', {}, t('safe.since')),
      el('th', {}, t('safe.by')), el('th', {}, t('safe.lifted')), el('th', {}))), tbody));

  pg.root.replaceChildren(el('h1', {}, t('safe.heading')), list);
  if (can('safe_mode')) pg.root.append(form);

  pg.poll(async () => {
    const [modes] = await Promise.all([api('GET', '/safe-mode'), loadLookups()]);
    // Names of the screens the records name, by id; the picker searches.
    [screenNames] = await Promise.all([knowScreens((modes || []).flatMap((m) => (m.target && m.target.screens) || [])),
      picker.refresh(lookups.groups.map((g) => ({ id: g.id, name: g.name })))]);
    tbody.replaceChildren(...(modes || []).map((m) => {
      const on = !m.lifted_at;
      const btn = el('button', { type: 'button', class: 'danger', dataset: { lift: m.id } }, t('safe.lift'));
      btn.addEventListener('click', () => lift(m, btn));
      return el('tr', { dataset: { safe: m.id, active: String(on) } },
        el('td', {}, on ? el('span', { class: 'badge warn', text: t('safe.on') }) : el('span', { class: 'badge', text: t('safe.off') })),
        el('td', { text: targetSummary(m.target, screenNames) }),
        el('td', { text: absTime(m.since) }),
        el('td', { text: m.by || '—' }),
        el('td', { text: on ? '—' : t('safe.liftedAt', { time: absTime(m.lifted_at), by: m.lifted_by || '—' }) }),
        el('td', {}, on && can('safe_mode') ? btn : ''));
    }));
    if (!(modes || []).length) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: t('safe.none') })));
  });
}
