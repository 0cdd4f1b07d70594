// My account: the signed-in person's profile, password, two-step
// verification (TOTP) and personal API tokens. The TOTP QR code arrives as
// a data: URL (the CSP's img-src allows data:), and a new token is shown
// once, here, with a copy button.

import {
  el, append, api, enc, L, session, reloadSession, timeEl, roleLabel, formMessages, confirmButton, refreshBar, lookups, loadLookups,
} from './kit.js';
import { t } from './i18n.js';
import { listText } from './targets.js';

export default function accountView(pg) {
  if (session.breakglass) {
    append(pg.root, el('div', { class: 'card' }, el('p', { text: t('me.breakglass') })));
    return;
  }
  const profile = el('dl', { class: 'kv', id: 'me-profile' });
  const mfaNote = el('p', { class: 'banner warn-banner', id: 'me-mfa-required', hidden: !session.mfaSetup, text: t('me.mfaRequired') });

  // ---- password ----
  const pm = formMessages('me-pw');
  const cur = el('input', { id: 'me-current', type: 'password', autocomplete: 'current-password', required: true });
  const nw = el('input', { id: 'me-new', type: 'password', autocomplete: 'new-password', minlength: 12, required: true });
  const rep = el('input', { id: 'me-repeat', type: 'password', autocomplete: 'new-password', required: true });
  const pwForm = el('form', { id: 'me-password-form', class: 'card form', method: 'post', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    pm.clear();
    if (nw.value.length < 12) return pm.fail(t('me.tooShort'));
    if (nw.value !== rep.value) return pm.fail(t('me.mismatch'));
    try {
      await api('PUT', '/me/password', { current: cur.value, new: nw.value });
      cur.value = '';
      nw.value = '';
      rep.value = '';
      pm.done(t('me.passwordChanged'));
    } catch (err) {
      if (!err.handled) pm.fail(t('cs.failed', { msg: err.message }));
    }
  } },
  el('h2', {}, L('me.password')),
  el('label', { for: 'me-current' }, L('me.current')), cur,
  el('label', { for: 'me-new' }, L('me.new'), el('span', { class: 'hint', text: t('me.newHint') })), nw,
  el('label', { for: 'me-repeat' }, L('me.repeat')), rep,
  el('div', { class: 'form-actions' }, el('button', { type: 'submit', class: 'primary', id: 'me-pw-save' }, L('common.save'))),
  pm.error, pm.ok);

  // ---- TOTP ----
  const tm = formMessages('me-totp');
  const totpBox = el('div', { id: 'me-totp' });
  let enrolling = null; // {secret, url, qr_png} while the person scans

  function renderTotp(me) {
    totpBox.replaceChildren();
    if (enrolling) {
      const code = el('input', { id: 'me-totp-code', inputmode: 'numeric', maxlength: 10, autocomplete: 'one-time-code' });
      append(totpBox, [
        el('p', { text: t('me.totpScan') }),
        el('div', { class: 'totp-enrol' },
          enrolling.qr_png && String(enrolling.qr_png).startsWith('data:image/')
            ? el('img', { id: 'me-totp-qr', src: enrolling.qr_png, alt: 'TOTP QR', width: 200, height: 200 }) : null,
          el('div', {},
            el('p', {}, L('me.totpSecret'), ': ', el('code', { id: 'me-totp-secret', class: 'secret', text: enrolling.secret || '' })),
            el('label', { for: 'me-totp-code' }, L('me.totpCode')), code, ' ',
            el('button', { type: 'button', class: 'primary', id: 'me-totp-confirm', onclick: async () => {
              tm.clear();
              try {
                await api('POST', '/me/totp/confirm', { code: code.value.trim() });
                enrolling = null;
                tm.done(t('me.totpEnabled'));
                if (session.mfaSetup) {
                  await reloadSession();
                  mfaNote.hidden = session.mfaSetup;
                }
                pg.tick();
              } catch (err) {
                if (!err.handled) tm.fail(t('cs.failed', { msg: err.message }));
              }
            } }, L('me.totpConfirm')), ' ',
            el('button', { type: 'button', onclick: () => {
              enrolling = null;
              renderTotp(me);
            } }, L('common.cancel')))),
      ]);
      return;
    }
    if (me.totp_enabled) {
      const pw = el('input', { id: 'me-totp-password', type: 'password', autocomplete: 'current-password' });
      append(totpBox, [
        el('p', { class: 'ok-text', id: 'me-totp-on', text: t('me.totpOn') }),
        el('label', { for: 'me-totp-password' }, L('me.totpDisablePw')), pw, ' ',
        el('button', { type: 'button', class: 'danger', id: 'me-totp-off', onclick: async () => {
          tm.clear();
          try {
            await api('DELETE', '/me/totp', { password: pw.value });
            tm.done(t('me.totpDisabled'));
            pg.tick();
          } catch (err) {
            if (err.handled) return;
            tm.fail(err.code === 'totp_required_by_policy' ? t('me.totpPolicy') : t('cs.failed', { msg: err.message }));
          }
        } }, L('me.totpDisable')),
      ]);
      return;
    }
    append(totpBox, [
      el('p', { class: 'muted', id: 'me-totp-off-note', text: t('me.totpOff') }),
      el('button', { type: 'button', class: 'primary', id: 'me-totp-start', onclick: async () => {
        tm.clear();
        try {
          enrolling = await api('POST', '/me/totp');
          renderTotp(me);
        } catch (err) {
          if (!err.handled) tm.fail(t('cs.failed', { msg: err.message }));
        }
      } }, L('me.totpStart')),
    ]);
  }

  // ---- tokens ----
  const km = formMessages('me-token');
  const tokenName = el('input', { id: 'me-token-name', maxlength: 100, autocomplete: 'off' });
  const tokenRole = el('select', { id: 'me-token-role' });
  const fresh = el('div', { id: 'me-token-new', class: 'token-once', hidden: true });
  const tokBody = el('tbody');

  function showFresh(tok) {
    const out = el('input', { id: 'me-token-value', readonly: true, value: tok.token, spellcheck: 'false' });
    const copyMsg = el('span', { class: 'muted small', role: 'status' });
    fresh.replaceChildren(el('p', { class: 'warn', text: t('me.tokenOnce') }),
      el('div', { class: 'copy-row' }, out, ' ', el('button', { type: 'button', id: 'me-token-copy', onclick: async () => {
        out.select();
        try {
          await navigator.clipboard.writeText(tok.token);
          copyMsg.textContent = t('me.copied');
        } catch {
          copyMsg.textContent = t('me.copyFailed');
        }
      } }, L('me.copy')), ' ', copyMsg));
    fresh.hidden = false;
    out.select();
  }

  const tokenForm = el('form', { id: 'me-token-form', class: 'inline-form', method: 'post', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    km.clear();
    const name = tokenName.value.trim();
    if (!name) return km.fail(t('me.needName'));
    try {
      const tok = await api('POST', '/me/tokens', { name, role: tokenRole.value });
      tokenName.value = '';
      showFresh(tok);
      pg.tick();
    } catch (err) {
      if (!err.handled) km.fail(t('cs.failed', { msg: err.message }));
    }
  } },
  el('label', { for: 'me-token-name' }, L('me.tokenName')), tokenName, ' ',
  el('label', { for: 'me-token-role' }, L('me.tokenRole')), tokenRole, ' ',
  el('button', { type: 'submit', class: 'primary', id: 'me-token-create' }, L('me.tokenCreate')));

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, L('me.title')), refreshBar(pg)),
    mfaNote,
    el('section', { class: 'card' }, el('h2', {}, L('me.profile')), profile),
    pwForm,
    el('section', { class: 'card' }, el('h2', {}, L('me.totp')), totpBox, tm.error, tm.ok),
    el('section', { class: 'card' }, el('h2', {}, L('me.tokens'), el('span', { class: 'hint', text: t('me.tokensHint') })),
      tokenForm, km.error, km.ok, fresh,
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'me-tokens' },
        el('thead', {}, el('tr', {}, el('th', {}, L('me.tokenName')), el('th', {}, L('me.tokenRole')),
          el('th', {}, L('me.createdAt')), el('th', {}, L('me.lastUsed')), el('th', {}, ''))),
        tokBody))),
  ]);

  let rolesFor = '';
  pg.poll(async () => {
    // Until a required second factor is set up only the account answers.
    const [me, tokens] = await Promise.all([api('GET', '/me'), api('GET', '/me/tokens'), session.mfaSetup ? null : loadLookups()]);
    if (!pg.alive) return;
    const groups = me.groups && me.groups.length
      ? listText(me.groups.map((g) => lookups.groupNames.get(g) || g)) : t('me.allGroups');
    profile.replaceChildren(
      el('dt', {}, L('users.username')), el('dd', { id: 'me-username', text: me.username }),
      el('dt', {}, L('me.role')), el('dd', { id: 'me-role', text: roleLabel(me.role) }),
      el('dt', {}, L('me.groups')), el('dd', { text: groups }),
      el('dt', {}, t('me.urgent')), el('dd', { text: me.urgent ? t('common.yes') : t('common.no') }),
      el('dt', {}, L('me.lastSignIn')), el('dd', {}, timeEl(me.last_sign_in, t('common.never'))));
    if (rolesFor !== me.role) {
      rolesFor = me.role;
      const roles = me.role === 'viewer' ? ['viewer'] : [me.role, 'viewer'];
      tokenRole.replaceChildren(...roles.map((r) => el('option', { value: r, text: roleLabel(r) })));
    }
    if (!enrolling) renderTotp(me);
    const list = tokens || [];
    tokBody.replaceChildren(...list.map((k) => el('tr', { dataset: { id: k.id } },
      el('td', { class: 'tok-name', text: k.name }),
      el('td', { text: roleLabel(k.role) }),
      el('td', {}, timeEl(k.created_at)),
      el('td', {}, timeEl(k.last_used, t('common.never'))),
      el('td', {}, confirmButton(t('me.revoke'), t('me.confirmRevoke'), { revoke: k.id }, async () => {
        try {
          await api('DELETE', `/me/tokens/${enc(k.id)}`);
          pg.tick();
        } catch (err) {
          if (!err.handled) km.fail(t('cs.failed', { msg: err.message }));
        }
      })))));
    if (!list.length) tokBody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: t('me.noTokens') })));
  });
}
