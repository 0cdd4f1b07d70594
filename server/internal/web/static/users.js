// Users (admins): everyone who may sign in, their role, the groups of
// screens they are limited to, and whether they may send urgent notices
// without review. Disabling someone ends their sessions and tokens at once;
// a password or MFA reset ends their sessions too. The create/edit form
// and the table are the shared ones of forms.js.

import {
  el, api, enc, isMe, timeEl, roleLabel, confirmButton, refreshBar, lookups, loadLookups,
} from './kit.js';
import { t, ROLES, compareText } from './i18n.js';
import { listText } from './targets.js';
import { editForm, listTable } from './forms.js';

export default function usersView(pg) {
  let pwOpen = false; // a row's reset-password field is open: the refresh leaves the table alone

  // The groups a user is limited to: every known group as a checkbox, plus
  // any the user has that the lookups no longer list.
  const groupBox = el('div', { class: 'choices', id: 'user-groups' });
  const checkedGroups = () => [...groupBox.querySelectorAll('input:checked')].map((i) => i.value);

  function renderGroups(checked) {
    checked = checked || new Set(checkedGroups());
    const known = new Set(lookups.groups.map((g) => g.id));
    const list = lookups.groups.concat([...checked].filter((id) => !known.has(id)).map((id) => ({ id, name: id })));
    groupBox.replaceChildren(...list.map((g) => el('label', { class: 'inline choice' },
      el('input', { type: 'checkbox', name: 'groups', value: g.id, checked: checked.has(g.id) }), ' ',
      g.name || g.id, el('small', { class: 'muted', text: ` ${g.id}` }))));
    if (!list.length) groupBox.append(el('span', { class: 'muted', text: t('common.none') }));
  }

  const form = editForm({
    id: 'user',
    prefix: 'user',
    titles: { create: t('users.new'), edit: t('users.edit') },
    fields: [
      { name: 'username', id: 'user-name', label: t('users.username'), lockedOnEdit: true,
        maxlength: 64, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' },
      { name: 'password', label: t('users.password'), hint: t('users.passwordHint'), type: 'password',
        autocomplete: 'new-password', onlyNew: true },
      { name: 'role', label: t('users.role'), type: 'select', initial: 'editor',
        options: ROLES.map((r) => ({ value: r, text: roleLabel(r) })) },
      {
        name: 'groups', wide: true,
        control: el('fieldset', {}, el('legend', { text: t('users.groups') }), el('span', { class: 'hint', text: t('users.groupsHint') }), groupBox),
        get: checkedGroups,
        set: (v) => renderGroups(new Set(v || [])),
      },
      { name: 'urgent', label: t('users.urgent'), type: 'checkbox' },
    ],
    idOf: (u) => u.username,
    focus: 'role',
    // An edit sends the whole record the PUT replaces; disabling is the
    // row's own button and stays as it is.
    body: (v, editing) => (editing
      ? { role: v.role, groups: v.groups, urgent: v.urgent, disabled: !!editing.disabled }
      : { username: v.username, password: v.password, role: v.role, groups: v.groups, urgent: v.urgent }),
    check: (body, editing) => (!editing && !body.username ? t('users.needUsername') : ''),
    save: (body, editing) => (editing ? api('PUT', `/users/${enc(editing.id)}`, body) : api('POST', '/users', body)),
    savedText: (body, u, editing) => t(editing ? 'users.saved' : 'users.created', { name: u.username }),
    onSaved: () => pg.tick(),
  });
  const m = form.messages;

  // act runs a row's action and reports beside the form.
  async function act(call, text) {
    try {
      await call();
      m.done(text);
      pg.tick();
    } catch (err) {
      if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
    }
  }

  const setDisabled = (u, disabled) => act(
    () => api('PUT', `/users/${enc(u.id)}`, { role: u.role, groups: u.groups || [], urgent: !!u.urgent, disabled }),
    t(disabled ? 'users.nowDisabled' : 'users.nowEnabled', { name: u.username }));

  // resetPassword opens a one-field form in the row: an admin types the
  // new password, never sees the old one.
  function resetPassword(u, cell) {
    const input = el('input', { type: 'password', class: 'small-input', autocomplete: 'new-password', placeholder: t('users.newPw'),
      dataset: { pwFor: u.id } });
    const go = el('button', { type: 'button', class: 'small', onclick: async () => {
      try {
        await api('POST', `/users/${enc(u.id)}/password`, { password: input.value });
        m.done(t('users.pwReset', { name: u.username }));
        pwOpen = false; // the field closes only once the password is set
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

  const table = listTable({
    id: 'users',
    columns: [
      { head: t('users.username'), class: 'u-name', cell: (u) => u.username },
      { head: t('users.role'), cell: (u) => roleLabel(u.role) },
      { head: t('users.groups'), cell: (u) => (u.groups && u.groups.length
        ? listText(u.groups.map((g) => lookups.groupNames.get(g) || g)) : t('users.allScreens')) },
      { head: t('nav.urgent'), cell: (u) => (u.urgent ? '✓' : '') },
      { head: t('users.status'), cell: (u) => (u.disabled
        ? el('span', { class: 'badge bad', text: t('users.disabled') }) : el('span', { class: 'badge ok', text: t('users.active') })) },
      { head: t('users.totp'), cell: (u) => (u.totp_enabled ? '✓' : '—') },
      { head: t('users.lastSignIn'), cell: (u) => timeEl(u.last_sign_in, t('common.never')) },
    ],
    rowClass: (u) => (u.disabled ? 'disabled-row' : ''),
    rowData: (u) => ({ username: u.username, role: u.role }),
    actions: (u) => [
      form.editButton(u), ' ',
      el('button', { type: 'button', class: 'small', dataset: { resetPw: u.id },
        onclick: (e) => resetPassword(u, e.currentTarget.closest('td')) }, t('users.resetPw')), ' ',
      u.totp_enabled ? [confirmButton(t('users.resetMfa'), t('users.confirmResetMfa'), { resetMfa: u.id },
        () => act(() => api('DELETE', `/users/${enc(u.id)}/totp`), t('users.mfaReset', { name: u.username }))), ' '] : null,
      isMe(u.id) ? null : u.disabled
        ? el('button', { type: 'button', class: 'small', dataset: { enable: u.id }, onclick: () => setDisabled(u, false) }, t('users.enable'))
        : confirmButton(t('users.disable'), t('users.confirmDisable'), { disable: u.id }, () => setDisabled(u, true)),
    ],
    empty: t('users.none'),
  });

  pg.root.append(
    el('div', { class: 'page-head' }, el('h1', { text: t('users.title') }), refreshBar(pg)),
    form.element,
    el('section', { class: 'card' }, el('h2', { text: t('users.list') }), table.element),
  );

  pg.poll(async () => {
    const [users] = await Promise.all([api('GET', '/users'), loadLookups()]);
    if (!pg.alive) return;
    renderGroups();
    if (pwOpen) return;
    table.render((users || []).slice().sort((a, b) => compareText(a.username, b.username)));
  });
}
