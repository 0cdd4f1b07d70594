// The screens page's "add a screen" card: a technician types the code a new
// screen shows, names and places it, and the player collects its
// credential by itself (POST /screens/pair). The same card re-pairs
// replaced hardware onto an existing screen, and keeps the scripted
// install's way (POST /screens, the token shown once with the player's
// command line: tokenBox). Needs fleet.write; pg is the page, refreshed
// after a screen was added; defaults() may name the group to preselect.

import { el, append, L, api, can, lookups, loadLookups, screenHref, formMessages } from './kit.js';
import { t } from './i18n.js';
import { screenPage, searchBox } from './paging.js';

export function pairCard(pg, defaults = () => ({})) {
  if (!can('fleet.write')) return null;
  const msg = formMessages('pair');
  const field = (id, label, input, hint) => [
    el('label', { for: id }, L(label), hint ? el('span', { class: 'hint', text: t(hint) }) : null), input];

  const codeIn = el('input', { id: 'pair-code', name: 'code', autocomplete: 'off', spellcheck: 'false', maxlength: 16,
    class: 'pair-code', placeholder: 'ABCD EFGH' });
  const nameIn = el('input', { id: 'pair-name', name: 'name', maxlength: 200, autocomplete: 'off' });
  const groupSel = el('select', { id: 'pair-group', name: 'group' });
  const tagsIn = el('input', { id: 'pair-tags', name: 'tags', autocomplete: 'off', placeholder: t('pair.tagsHint') });
  const orientSel = el('select', { id: 'pair-orientation', name: 'orientation' },
    el('option', { value: '', text: t('pair.orientationUnset') }),
    el('option', { value: 'landscape', text: t('pair.landscape') }),
    el('option', { value: 'portrait', text: t('pair.portrait') }));
  const tzIn = el('input', { id: 'pair-timezone', name: 'timezone', autocomplete: 'off', placeholder: 'Asia/Shanghai' });
  const screenSel = el('select', { id: 'pair-screen', name: 'screen', onchange: layout });
  // The screens to re-pair: the first REPAIR_CHOICES matching a search
  // (a district has thousands), and the one chosen whatever the search.
  const REPAIR_CHOICES = 50;
  let repairFind = '';
  const repairSearch = searchBox('pair-screen-q', (v) => {
    repairFind = v;
    refresh();
  }, { placeholder: t('page.searchHint'), label: t('page.findScreens') });
  const chosen = new Map(); // id → text of the option chosen
  const tokenOut = el('div', { id: 'pair-token-box', hidden: true });
  const submit = el('button', { type: 'submit', class: 'primary', id: 'pair-submit' });

  const mode = (value, key, checked) => el('label', { class: 'inline' },
    el('input', { type: 'radio', name: 'pair-mode', value, checked, onchange: layout }), ' ', L(key));
  const codeRows = el('div', { class: 'pair-rows' }, field('pair-code', 'pair.code', codeIn, 'pair.codeHint'));
  const repairRows = el('div', { class: 'pair-rows' },
    field('pair-screen', 'pair.repair', el('span', { class: 'pair-pick' }, repairSearch.node, ' ', screenSel), 'pair.repairHint'));
  const screenRows = el('div', { class: 'pair-rows' },
    field('pair-name', 'pair.name', nameIn),
    field('pair-group', 'pair.group', groupSel),
    field('pair-tags', 'pair.tags', tagsIn),
    field('pair-orientation', 'pair.orientation', orientSel),
    field('pair-timezone', 'pair.timezone', tzIn, 'pair.timezoneHint'));
  const tokenHint = el('p', { class: 'muted', text: t('pair.tokenHint'), hidden: true });

  const form = el('form', { id: 'pair-form', class: 'form', method: 'post', novalidate: true, onsubmit: send },
    el('p', { class: 'muted', text: t('pair.hint') }),
    el('fieldset', {}, mode('code', 'pair.mode.code', true), mode('token', 'pair.mode.token', false)),
    tokenHint, codeRows, repairRows, screenRows,
    el('div', { class: 'form-actions' }, submit),
    msg.error, msg.ok, tokenOut);

  const card = el('details', { class: 'card pair-card', id: 'pair-card', ontoggle: () => {
    if (!card.open) return;
    const g = defaults().group;
    if (g && !groupSel.value) groupSel.dataset.want = g;
    refresh();
  } },
    el('summary', {}, el('h2', { class: 'inline-h' }, L('pair.title'))), form);

  function currentMode() {
    return form.querySelector('input[name="pair-mode"]:checked').value;
  }

  // layout shows the fields the chosen way needs: re-pairing keeps the
  // screen as it is, so its fields go; the token way needs no code.
  function layout() {
    const byToken = currentMode() === 'token';
    const repair = !byToken && screenSel.value !== '';
    codeRows.hidden = byToken;
    repairRows.hidden = byToken;
    screenRows.hidden = repair;
    tokenHint.hidden = !byToken;
    submit.replaceChildren(L(byToken ? 'pair.create' : 'pair.submit'));
  }

  async function refresh() {
    try {
      const [page] = await Promise.all([screenPage({ q: repairFind, limit: REPAIR_CHOICES }), loadLookups()]);
      const keep = [groupSel.value, screenSel.value];
      groupSel.replaceChildren(el('option', { value: '', text: t('pair.noGroup') }),
        ...lookups.groups.map((g) => el('option', { value: g.id, text: g.name && g.name !== g.id ? `${g.name} (${g.id})` : g.id })));
      const list = page.screens.map((s) => ({ id: s.id, text: `${s.name || s.id} (${s.id})` }));
      if (keep[1] && chosen.has(keep[1]) && !list.some((s) => s.id === keep[1])) list.unshift({ id: keep[1], text: chosen.get(keep[1]) });
      chosen.clear();
      screenSel.replaceChildren(el('option', { value: '', text: t('pair.repairNone') }),
        ...list.map((s) => el('option', { value: s.id, text: s.text })));
      for (const s of list) chosen.set(s.id, s.text);
      groupSel.value = groupSel.dataset.want || keep[0];
      delete groupSel.dataset.want;
      screenSel.value = keep[1];
      layout();
    } catch (err) {
      if (!err.handled) msg.fail(t('pair.failed', { msg: err.message }));
    }
  }

  async function send(e) {
    e.preventDefault();
    msg.clear();
    tokenOut.hidden = true;
    tokenOut.replaceChildren();
    const byToken = currentMode() === 'token';
    const code = codeIn.value.trim();
    const screen = byToken ? '' : screenSel.value;
    if (!byToken && !code) return msg.fail(t('pair.needCode'));
    if (!screen && !nameIn.value.trim()) return msg.fail(t('pair.needName'));
    const body = screen ? { code, screen } : {
      name: nameIn.value.trim(),
      group: groupSel.value,
      tags: tagsIn.value.split(/[,\uFF0C\u3001]/) // , or the Chinese comma and list comma
        .map((s) => s.trim()).filter(Boolean),
      orientation: orientSel.value,
      timezone: tzIn.value.trim(),
    };
    if (!byToken && !screen) body.code = code;
    submit.disabled = true;
    try {
      const s = await api('POST', byToken ? '/screens' : '/screens/pair', body);
      const link = el('a', { href: screenHref(s.id), id: 'pair-link', text: s.name || s.id });
      const key = byToken ? 'pair.created' : s.repaired ? 'pair.redone' : 'pair.done';
      msg.done(t(key, { name: s.name || s.id }));
      append(msg.ok, [' ', link]);
      if (byToken) {
        tokenOut.replaceChildren(tokenBox(s.token, s.server_key, 'pair'));
        tokenOut.hidden = false;
      }
      codeIn.value = '';
      nameIn.value = '';
      tagsIn.value = '';
      screenSel.value = '';
      refresh();
      pg.tick(); // the new screen in the list below
    } catch (err) {
      if (err.handled) return;
      if (err.code === 'pairing_code_unknown') msg.fail(t('pair.unknown'));
      else if (err.status === 429 && err.retryAfter) msg.fail(t('pair.tooMany', { secs: err.retryAfter }));
      else msg.fail(t('pair.failed', { msg: err.message }));
    } finally {
      submit.disabled = false;
    }
  }

  layout();
  return card;
}

// copyText puts text on the clipboard: the Clipboard API where the page
// may use it (https or localhost), else the selected text of node.
async function copyText(text, node) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const r = document.createRange();
    r.selectNodeContents(node);
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

// copyBlock is text to copy (a token, a command line) with its button.
function copyBlock(id, text) {
  const code = el('code', { id, class: 'copy-text', text });
  const said = el('span', { class: 'muted small', role: 'status' });
  const btn = el('button', { type: 'button', class: 'small', dataset: { copy: id }, onclick: async () => {
    said.textContent = (await copyText(text, code)) ? t('scr.tok.copied') : t('scr.tok.copyFailed');
  } }, t('scr.tok.copy'));
  return el('div', { class: 'copy-row' }, el('pre', { class: 'copy-pre' }, code), el('div', { class: 'copy-actions' }, btn, ' ', said));
}

// tokenBox shows a new device token once, with the exact command that
// starts the player with it. serverKey is the server's manifest key when
// it signs manifests: saved to a file and named by -server-key, the
// player accepts only this server's manifests from the first one on
// (without it, it would trust the first key it sees). prefix names the
// elements' ids (pair-token, pair-command, …).
export function tokenBox(token, serverKey, prefix) {
  const server = location.origin;
  const cmd = ['kiosk-player', '-server', server, '-token', token];
  if (serverKey) cmd.push('-server-key', 'server.key');
  cmd.push('-cache', '/var/lib/kiosk-player/cache.db', '-listen', '127.0.0.1:8090');
  return el('div', { class: 'token-box' },
    el('p', { class: 'warn', text: t('scr.tok.once') }),
    copyBlock(`${prefix}-token`, token),
    serverKey ? [el('p', { text: t('scr.tok.key') }), copyBlock(`${prefix}-key`, `echo '${serverKey}' > server.key`)] : null,
    el('p', { text: t(serverKey ? 'scr.tok.run' : 'scr.tok.runNoKey') }),
    copyBlock(`${prefix}-command`, cmd.join(' ')),
    el('p', { class: 'muted small', text: t('scr.tok.runHint') }));
}
