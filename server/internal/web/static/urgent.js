// urgent screen of the admin page.

import {
  TZ_OFFSET, $, el, append, absTime, timeEl, statusBadge, api, enc, lookups, loadLookups, showBanner, can,
} from './kit.js';
import { targetSummary } from './targets.js';
import { screenChoices, knowScreens } from './paging.js';
import { t } from './i18n.js';

const WEEK_MS = 7 * 24 * 3600 * 1000;

// sender names who sent a notice: notices skip review, so the list says
// who put each one on public screens.
const sender = (n) => n.sent_by || '';

function shanghaiLocal(d) {
  return new Date(d.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 16);
}

export default function urgentView(pg) {
  const msg = el('p', { id: 'urgent-error', class: 'error', role: 'alert', hidden: true });
  const okMsg = el('p', { id: 'urgent-ok', class: 'ok-text', role: 'status', hidden: true });
  const titleIn = el('input', { id: 'u-title', name: 'title', required: true, maxlength: 200, autocomplete: 'off' });
  const bodyIn = el('textarea', { id: 'u-body', name: 'body', rows: 3, maxlength: 5000 });
  const expIn = el('input', { id: 'u-expires', name: 'expires', type: 'datetime-local', required: true, step: 60 });
  expIn.value = shanghaiLocal(new Date(Date.now() + 3600 * 1000));
  const groupBox = el('div', { class: 'choices', id: 'u-groups', hidden: true });
  // Screens are found by searching: a district has thousands.
  const screens = screenChoices('u-screens', 'screens');
  const screenBox = screens.node;
  const radio = (value, key, checked) => el('label', { class: 'inline' },
    el('input', { type: 'radio', name: 'target', value, checked, onchange: showTargets }), ' ', t(key));
  const tbody = el('tbody');
  let screenNames = new Map();

  function targetKind() {
    return $('input[name="target"]:checked', pg.root).value;
  }

  function showTargets() {
    const k = targetKind();
    groupBox.hidden = k !== 'groups';
    screenBox.hidden = k !== 'screens';
  }

  function checkboxes(box, list, name) {
    const checked = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
    box.replaceChildren(...list.map((x) => el('label', { class: 'inline choice' },
      el('input', { type: 'checkbox', name, value: x.id, checked: checked.has(x.id) }), ' ',
      x.name && x.name !== x.id ? `${x.name}` : x.id, el('small', { class: 'muted', text: ` ${x.id}` }))));
    if (!list.length) box.append(el('span', { class: 'muted', text: t('common.none') }));
  }

  const form = el('form', { id: 'urgent-form', class: 'card form', method: 'post', novalidate: true, onsubmit: submit },
    el('h2', {}, t('urgent.send')),
    el('p', { class: 'muted', text: t('urgent.sendHint') }),
    el('label', { for: 'u-title' }, t('urgent.title')), titleIn,
    el('label', { for: 'u-body' }, t('urgent.body')), bodyIn,
    el('fieldset', {}, el('legend', {}, t('urgent.target')),
      radio('all', 'tgt.all', true), radio('groups', 'tgt.groups', false),
      radio('screens', 'tgt.screens', false), groupBox, screenBox),
    el('label', { for: 'u-expires' }, t('urgent.expires'),
      el('span', { class: 'hint', text: t('urgent.expiresHint') })),
    expIn,
    el('div', { class: 'form-actions' }, el('button', { type: 'submit', class: 'primary', id: 'u-send' }, t('urgent.sendButton'))),
    msg, okMsg);

  async function submit(e) {
    e.preventDefault();
    msg.hidden = true;
    okMsg.hidden = true;
    const fail = (text) => {
      msg.textContent = text;
      msg.hidden = false;
    };
    const title = titleIn.value.trim();
    if (!title) return fail(t('urgent.needTitle'));
    if (!expIn.value) return fail(t('urgent.needExpires'));
    const target = {};
    const k = targetKind();
    if (k === 'all') target.all = true;
    else {
      const ids = k === 'groups' ? [...groupBox.querySelectorAll('input:checked')].map((i) => i.value) : screens.value();
      if (!ids.length) return fail(t(k === 'groups' ? 'tgt.needGroup' : 'tgt.needScreen'));
      target[k] = ids;
    }
    // datetime-local gives "YYYY-MM-DDTHH:MM" (seconds only if typed);
    // the fixed +08:00 makes it Beijing time whatever the browser's zone.
    const local = expIn.value.length === 16 ? expIn.value + ':00' : expIn.value;
    const body = { title, body: bodyIn.value, target, expires_at: local + TZ_OFFSET };
    const btn = $('#u-send', form);
    btn.disabled = true;
    try {
      const n = await api('POST', '/urgent', body);
      okMsg.textContent = t('urgent.sent', { title: n.title, time: absTime(n.expires_at) });
      okMsg.hidden = false;
      titleIn.value = '';
      bodyIn.value = '';
      lookups.at = 0; // the new notice may be what screens show next
      pg.tick();
    } catch (err) {
      if (!err.handled) fail(t('urgent.sendFailed', { msg: err.message }));
    } finally {
      btn.disabled = false;
    }
  }

  // withdrawButton asks twice instead of using confirm(): a modal dialog
  // would block the refresh loop and is easy to click through.
  function withdrawButton(n) {
    let armed = 0;
    const b = el('button', { type: 'button', class: 'danger small', dataset: { withdraw: n.id } }, t('urgent.withdraw'));
    b.addEventListener('click', async () => {
      if (!armed) {
        b.textContent = t('urgent.confirmWithdraw');
        armed = setTimeout(() => {
          armed = 0;
          b.textContent = t('urgent.withdraw');
        }, 4000);
        return;
      }
      clearTimeout(armed);
      b.disabled = true;
      try {
        await api('DELETE', `/urgent/${enc(n.id)}`);
        pg.tick();
      } catch (err) {
        if (!err.handled) showBanner(t('urgent.withdrawFailed', { msg: err.message }));
        b.disabled = false;
      }
    });
    return b;
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, t('urgent.heading')),
      el('div', { class: 'toolbar' }, el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick() }, t('common.refresh')))),
    // The list comes first: what went out to public screens this week is
    // what anyone opening this page needs to see.
    el('section', { class: 'card urgent-recent' }, el('h2', {}, t('urgent.recent')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'urgent-list' },
        el('thead', {}, el('tr', {}, el('th', {}, t('urgent.title')), el('th', {}, t('urgent.body')), el('th', {}, t('urgent.target')),
          el('th', {}, t('urgent.status')), el('th', {}, t('urgent.sentAt')), el('th', {}, t('urgent.by')), el('th', {}, t('urgent.endsAt')),
          el('th', {}, ''))),
        tbody))),
    // Sending needs the urgent permission an admin grants per person.
    can('urgent') ? form : null,
  ]);
  const mayWithdraw = can('urgent.withdraw');

  let targetsLoaded = false;
  pg.poll(async () => {
    const [list] = await Promise.all([api('GET', '/urgent'), loadLookups(), screens.refresh()]);
    if (!pg.alive) return;
    // Names of the screens the notices name, by id: not the whole fleet.
    screenNames = await knowScreens((list || []).flatMap((n) => (n.target && n.target.screens) || []));
    if (!pg.alive) return;
    // Rebuilding the choices keeps what is ticked; doing it once per
    // refresh picks up new groups (and screens matching the search).
    checkboxes(groupBox, lookups.groups, 'groups');
    if (!targetsLoaded) {
      targetsLoaded = true;
      showTargets();
    }
    const recent = (list || []).filter((n) => {
      const at = Date.parse(n.created_at);
      return !at || Date.now() - at < WEEK_MS;
    });
    tbody.replaceChildren(...recent.map((n) => el('tr', { class: n.status === 'active' ? 'urgent-active-row' : '', dataset: { id: n.id, status: n.status } },
      el('td', { class: 'u-title', text: n.title }),
      el('td', { class: 'u-body', text: n.body || '' }),
      el('td', { text: targetSummary(n.target, screenNames) }),
      el('td', {}, statusBadge('urgent', n.status, 'urgentStatus')),
      el('td', {}, timeEl(n.created_at)),
      el('td', { class: 'u-by', text: sender(n) || '—' }),
      el('td', {}, absTime(n.withdrawn_at || n.expires_at)),
      el('td', {}, n.status === 'active' && mayWithdraw ? withdrawButton(n) : ''))));
    if (!recent.length) tbody.append(el('tr', {}, el('td', { colspan: 8, class: 'muted', text: t('urgent.none') })));
  });
}
