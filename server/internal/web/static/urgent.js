// urgent screen of the admin page.

import {
  TZ_OFFSET, $, el, append, bi, absTime, timeEl, statusBadge, api, enc, lookups, loadLookups, showBanner, can,
} from './kit.js';
import { targetSummary } from './targets.js';
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
  const screenBox = el('div', { class: 'choices', id: 'u-screens', hidden: true });
  const radio = (value, zh, en, checked) => el('label', { class: 'inline' },
    el('input', { type: 'radio', name: 'target', value, checked, onchange: showTargets }), ' ', bi(zh, en));
  const tbody = el('tbody');
  let screensCache = [];
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
    if (!list.length) box.append(el('span', { class: 'muted', text: '（无）' }));
  }

  const form = el('form', { id: 'urgent-form', class: 'card form', method: 'post', novalidate: true, onsubmit: submit },
    el('h2', {}, bi('发送紧急通知', 'Send an urgent notice')),
    el('p', { class: 'muted', text: '紧急通知会在 2 秒内全屏覆盖目标屏幕，直到到期或撤回。' }),
    el('label', { for: 'u-title' }, bi('标题', 'Title')), titleIn,
    el('label', { for: 'u-body' }, bi('正文', 'Body')), bodyIn,
    el('fieldset', {}, el('legend', {}, bi('发送范围', 'Target')),
      radio('all', '全部屏幕', 'all screens', true), radio('groups', '按分组', 'groups', false),
      radio('screens', '指定屏幕', 'screens', false), groupBox, screenBox),
    el('label', { for: 'u-expires' }, bi('到期时间', 'Expires at'),
      el('span', { class: 'hint', text: '按北京时间（Asia/Shanghai, UTC+8）理解，与浏览器时区无关；最长 7 天。' })),
    expIn,
    el('div', { class: 'form-actions' }, el('button', { type: 'submit', class: 'primary', id: 'u-send' }, bi('发送', 'Send'))),
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
    if (!title) return fail('请填写标题。title: is required');
    if (!expIn.value) return fail('请选择到期时间。expires_at: is required');
    const target = {};
    const k = targetKind();
    if (k === 'all') target.all = true;
    else {
      const box = k === 'groups' ? groupBox : screenBox;
      const ids = [...box.querySelectorAll('input:checked')].map((i) => i.value);
      if (!ids.length) return fail(k === 'groups' ? '请至少选择一个分组。' : '请至少选择一块屏幕。');
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
      okMsg.textContent = `已发送「${n.title}」，${absTime(n.expires_at)} 到期。`;
      okMsg.hidden = false;
      titleIn.value = '';
      bodyIn.value = '';
      lookups.at = 0; // the new notice may be what screens show next
      pg.tick();
    } catch (err) {
      if (!err.handled) fail(`发送失败 (rejected)：${err.message}`);
    } finally {
      btn.disabled = false;
    }
  }

  // withdrawButton asks twice instead of using confirm(): a modal dialog
  // would block the refresh loop and is easy to click through.
  function withdrawButton(n) {
    let armed = 0;
    const b = el('button', { type: 'button', class: 'danger small', dataset: { withdraw: n.id } }, '撤回');
    b.addEventListener('click', async () => {
      if (!armed) {
        b.textContent = '确认撤回？';
        armed = setTimeout(() => {
          armed = 0;
          b.textContent = '撤回';
        }, 4000);
        return;
      }
      clearTimeout(armed);
      b.disabled = true;
      try {
        await api('DELETE', `/urgent/${enc(n.id)}`);
        pg.tick();
      } catch (err) {
        if (!err.handled) showBanner(`撤回失败 (withdraw failed)：${err.message}`);
        b.disabled = false;
      }
    });
    return b;
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, bi('紧急通知', 'Urgent notices')),
      el('div', { class: 'toolbar' }, el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick() }, bi('刷新', 'Refresh')))),
    // The list comes first: what went out to public screens this week is
    // what anyone opening this page needs to see.
    el('section', { class: 'card urgent-recent' }, el('h2', {}, bi('近 7 天的通知', 'Notices, last 7 days')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'urgent-list' },
        el('thead', {}, el('tr', {}, el('th', {}, '标题'), el('th', {}, '正文'), el('th', {}, '范围'), el('th', {}, '状态'),
          el('th', {}, '发出'), el('th', {}, t('urgent.by')), el('th', {}, '到期（北京时间）'), el('th', {}, ''))),
        tbody))),
    // Sending needs the urgent permission an admin grants per person.
    can('urgent') ? form : null,
  ]);
  const mayWithdraw = can('urgent.withdraw');

  let targetsLoaded = false;
  pg.poll(async () => {
    const [list, screens] = await Promise.all([api('GET', '/urgent'), api('GET', '/screens'), loadLookups()]);
    if (!pg.alive) return;
    screensCache = screens || [];
    screenNames = new Map(screensCache.map((s) => [s.id, s.name || s.id]));
    // Rebuilding the choices keeps what is ticked; doing it once per
    // refresh picks up new groups and screens.
    checkboxes(groupBox, lookups.groups, 'groups');
    checkboxes(screenBox, screensCache, 'screens');
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
    if (!recent.length) tbody.append(el('tr', {}, el('td', { colspan: 8, class: 'muted', text: '近 7 天没有紧急通知。' })));
  });
}
