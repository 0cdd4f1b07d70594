// Users (admins): everyone who may sign in, their role, the groups of
// screens they are limited to, and whether they may send urgent notices
// without review. Disabling someone ends their sessions and tokens at once;
// a password or MFA reset ends their sessions too.

import {
  el, append, api, enc, L, isMe, timeEl, roleLabel, formMessages, confirmButton, refreshBar, lookups, loadLookups,
} from './kit.js';
import { t, ROLES, compareText } from './i18n.js';
import { listText } from './targets.js';

export default function usersView(pg) {
  const m = formMessages('user');
  let editing = null;
  let pwOpen = false; // a row's reset-password field is open: the refresh leaves the table alone

  const heading = el('h2', { id: 'user-form-title' });
  const nameIn = el('input', { id: 'user-name', maxlength: 64, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' });
  const pwIn = el('input', { id: 'user-password', type: 'password', autocomplete: 'new-password' });
  const pwRow = el('div', { class: 'field-row' },
    el('label', { for: 'user-password' }, L('users.password'), el('span', { class: 'hint', text: t('users.passwordHint') })), pwIn);
  const roleSel = el('select', { id: 'user-role' }, ROLES.map((r) => el('option', { value: r, text: roleLabel(r) })));
  const groupBox = el('div', { class: 'choices', id: 'user-groups' });
  const urgentIn = el('input', { type: 'checkbox', id: 'user-urgent' });
  const saveBtn = el('button', { type: 'submit', class: 'primary', id: 'user-save' });
  const cancelBtn = el('button', { type: 'button', id: 'user-cancel', onclick: () => reset() }, L('common.cancel'));
  const tbody = el('tbody');

  function renderGroups(checked) {
    checked = checked || new Set([...groupBox.querySelectorAll('input:checked')].map((i) => i.value));
    const known = new Set(lookups.groups.map((g) => g.id));
    const list = lookups.groups.concat([...checked].filter((id) => !known.has(id)).map((id) => ({ id, name: id })));
    groupBox.replaceChildren(...list.map((g) => el('label', { class: 'inline choice' },
      el('input', { type: 'checkbox', name: 'groups', value: g.id, checked: checked.has(g.id) }), ' ',
      g.name || g.id, el('small', { class: 'muted', text: ` ${g.id}` }))));
    if (!list.length) groupBox.append(el('span', { class: 'muted', text: t('common.none') }));
  }

  function reset() {
    editing = null;
    heading.replaceChildren(L('users.new'));
    saveBtn.replaceChildren(L('common.create'));
    cancelBtn.hidden = true;
    nameIn.value = '';
    nameIn.disabled = false;
    pwIn.value = '';
    pwRow.hidden = false;
    roleSel.value = 'editor';
    urgentIn.checked = false;
    renderGroups(new Set());
  }

  function edit(u) {
    editing = u;
    m.clear();
    heading.replaceChildren(L('users.edit'), ' ', el('code', { text: u.username }));
    saveBtn.replaceChildren(L('common.save'));
    cancelBtn.hidden = false;
    nameIn.value = u.username;
    nameIn.disabled = true;
    pwRow.hidden = true;
    roleSel.value = u.role;
    urgentIn.checked = !!u.urgent;
    renderGroups(new Set(u.groups || []));
    form.scrollIntoView({ block: 'start' });
    roleSel.focus();
  }

  const form = el('form', { id: 'user-form', class: 'card form', method: 'post', novalidate: true, onsubmit: submit },
    heading,
    el('label', { for: 'user-name' }, L('users.username')), nameIn,
    pwRow,
    el('label', { for: 'user-role' }, L('users.role')), roleSel,
    el('fieldset', {}, el('legend', {}, L('users.groups')), el('span', { class: 'hint', text: t('users.groupsHint') }), groupBox),
    el('label', { class: 'inline' }, urgentIn, ' ', L('users.urgent')),
    el('div', { class: 'form-actions' }, saveBtn, ' ', cancelBtn),
    m.error, m.ok);

  async function submit(e) {
    e.preventDefault();
    m.clear();
    const groups = [...groupBox.querySelectorAll('input:checked')].map((i) => i.value);
    saveBtn.disabled = true;
    try {
      if (editing) {
        const u = await api('PUT', `/users/${enc(editing.id)}`, {
          role: roleSel.value, groups, urgent: urgentIn.checked, disabled: !!editing.disabled,
        });
        reset();
        m.done(t('users.saved', { name: u.username }));
      } else {
        const username = nameIn.value.trim();
        if (!username) {
          m.fail(t('users.needUsername'));
          return;
        }
        const u = await api('POST', '/users', {
          username, password: pwIn.value, role: roleSel.value, groups, urgent: urgentIn.checked,
        });
        reset();
        m.done(t('users.created', { name: u.username }));
      }
      pg.tick();
    } catch (err) {
      if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
    } finally {
      saveBtn.disabled = false;
    }
  }

  async function setDisabled(u, disabled) {
    try {
      await api('PUT', `/users/${enc(u.id)}`, { role: u.role, groups: u.groups || [], urgent: !!u.urgent, disabled });
      m.done(t(disabled ? 'users.nowDisabled' : 'users.nowEnabled', { name: u.username }));
      pg.tick();
    } catch (err) {
      if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
    }
  }

  // resetPassword opens a one-field form in the row: an admin types the
  // new password, never sees the old one.
  function resetPassword(u, cell) {
    const input = el('input', { type: 'password', class: 'small-input', autocomplete: 'new-password', placeholder: t('users.newPw'),
      dataset: { pwFor: u.id } });
    const go = el('button', { type: 'button', class: 'small', onclick: async () => {
      try {
        await api('POST', `/users/${enc(u.id)}/password`, { password: input.value });
        m.done(t('users.pwReset', { name: u.username }));
        pwOpen = false;
        pg.tick();
      } catch (err) {
        if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
      }
    } }, t('users.setPw'));
    const cancel = el('button', { type: 'button', class: 'small', onclick: () => {
      pwOpen = false;
      pg.tick();
    } }, t('common.cancel'));
    pwOpen = true;
    cell.replaceChildren(input, ' ', go, ' ', cancel);
    input.focus();
  }

  function row(u) {
    const actions = el('td', { class: 'row-actions' });
    append(actions, [
      el('button', { type: 'button', class: 'small', dataset: { edit: u.id }, onclick: () => edit(u) }, t('common.edit')), ' ',
      el('button', { type: 'button', class: 'small', dataset: { resetPw: u.id }, onclick: () => resetPassword(u, actions) }, t('users.resetPw')), ' ',
      u.totp_enabled ? [confirmButton(t('users.resetMfa'), t('users.confirmResetMfa'), { resetMfa: u.id }, async () => {
        try {
          await api('DELETE', `/users/${enc(u.id)}/totp`);
          m.done(t('users.mfaReset', { name: u.username }));
          pg.tick();
        } catch (err) {
          if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
        }
      }), ' '] : null,
      isMe(u.id) ? null : u.disabled
        ? el('button', { type: 'button', class: 'small', dataset: { enable: u.id }, onclick: () => setDisabled(u, false) }, t('users.enable'))
        : confirmButton(t('users.disable'), t('users.confirmDisable'), { disable: u.id }, () => setDisabled(u, true)),
    ]);
    const groups = u.groups && u.groups.length ? listText(u.groups.map((g) => lookups.groupNames.get(g) || g)) : t('users.allScreens');
    return el('tr', { class: u.disabled ? 'disabled-row' : '', dataset: { id: u.id, username: u.username, role: u.role } },
      el('td', { class: 'u-name', text: u.username }),
      el('td', { text: roleLabel(u.role) }),
      el('td', { text: groups }),
      el('td', { text: u.urgent ? '✓' : '' }),
      el('td', {}, u.disabled ? el('span', { class: 'badge bad', text: t('users.disabled') }) : el('span', { class: 'badge ok', text: t('users.active') })),
      el('td', { text: u.totp_enabled ? '✓' : '—' }),
      el('td', {}, timeEl(u.last_sign_in, t('common.never'))),
      actions);
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, L('users.title')), refreshBar(pg)),
    form,
    el('section', { class: 'card' }, el('h2', {}, L('users.list')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'users' },
        el('thead', {}, el('tr', {}, el('th', {}, L('users.username')), el('th', {}, L('users.role')), el('th', {}, L('users.groups')),
          el('th', {}, t('nav.urgent')), el('th', {}, L('users.status')), el('th', {}, L('users.totp')),
          el('th', {}, L('users.lastSignIn')), el('th', {}, ''))),
        tbody))),
  ]);
  reset();

  pg.poll(async () => {
    const [users] = await Promise.all([api('GET', '/users'), loadLookups()]);
    if (!pg.alive) return;
    renderGroups();
    const list = (users || []).slice().sort((a, b) => compareText(a.username, b.username));
    if (pwOpen) return;
    tbody.replaceChildren(...list.map(row));
    if (!list.length) tbody.append(el('tr', {}, el('td', { colspan: 8, class: 'muted', text: t('users.none') })));
  });
}
