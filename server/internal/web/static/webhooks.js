// Webhooks (admins write, technicians read): the URLs alerts go to as
// signed JSON POSTs. Add one (URL, which alerts, a secret or one the
// server makes up and shows once), send it a test event and see the
// answer, read its delivery log (each recent alert's delivery and the
// test sends), delete it. #/webhooks/<id> opens that webhook's log.

import {
  el, append, api, enc, can, timeEl, absTime, statusBadge, formMessages, confirmButton, refreshBar,
} from './kit.js';
import { t, label, fmtNumber } from './i18n.js';
import { alertSummary } from './phrases.js';

const EVENTS = ['offline', 'stale', 'degraded', 'recovered'];

const eventsText = (evs) => (evs && evs.length ? evs.map((e) => label('alertKind', e)).join(t('tgt.listSep')) : t('hook.allEvents'));

// testText words a test send's outcome.
export function testText(r) {
  const ms = fmtNumber(r.duration_ms || 0);
  if (r.ok) return t('hook.testOk', { code: r.code, ms });
  if (r.code) return t('hook.testRefused', { code: r.code, ms });
  return t('hook.testFailed', { error: r.error || '', ms });
}

export default function webhooksView(pg, arg) {
  const writer = can('webhooks.write');
  const m = formMessages('hook');
  const fm = formMessages('hook-form');
  const lm = formMessages('hook-log');
  const tbody = el('tbody');
  const logBody = el('tbody');
  const logTitle = el('h2', { id: 'hook-log-title' });
  const logCard = el('section', { class: 'card', id: 'hook-log', hidden: true }, logTitle, lm.error,
    el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'hook-deliveries' },
      el('thead', {}, el('tr', {}, el('th', {}, t('hook.when')), el('th', {}, t('hook.event')), el('th', {}, t('hook.status')),
        el('th', { class: 'num' }, t('hook.attempts')), el('th', { class: 'num' }, t('hook.httpCode')), el('th', {}, t('hook.lastError')),
        el('th', { class: 'num' }, t('hook.duration')))),
      logBody)));
  let selected = arg || '';
  let hooks = [];

  // ---- add ----
  const urlIn = el('input', { id: 'hook-url', type: 'url', maxlength: 2048, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'https://alerts.example.org/kiosk' });
  const secretIn = el('input', { id: 'hook-secret-in', type: 'password', autocomplete: 'new-password', maxlength: 256 });
  const eventBox = el('div', { class: 'choices', id: 'hook-events' }, EVENTS.map((e) => el('label', { class: 'inline choice' },
    el('input', { type: 'checkbox', name: 'events', value: e }), ' ', label('alertKind', e))));
  const once = el('div', { id: 'hook-secret', class: 'token-once', hidden: true });
  const addBtn = el('button', { type: 'submit', class: 'primary', id: 'hook-add' }, t('hook.add'));
  const form = el('form', { id: 'hook-form', class: 'card form', method: 'post', novalidate: true, onsubmit: add },
    el('h2', {}, t('hook.new')),
    el('label', { for: 'hook-url' }, t('hook.url'), el('span', { class: 'hint', text: t('hook.urlHint') })), urlIn,
    el('fieldset', {}, el('legend', {}, t('hook.events')), el('span', { class: 'hint', text: t('hook.eventsHint') }), eventBox),
    el('label', { for: 'hook-secret-in' }, t('hook.secret'), el('span', { class: 'hint', text: t('hook.secretHint') })), secretIn,
    el('div', { class: 'form-actions' }, addBtn),
    fm.error, fm.ok, once);

  function showSecret(secret) {
    const out = el('input', { id: 'hook-secret-value', readonly: true, value: secret, spellcheck: 'false' });
    const note = el('span', { class: 'muted small', role: 'status' });
    once.replaceChildren(el('p', { class: 'warn', text: t('hook.secretOnce') }),
      el('div', { class: 'copy-row' }, out, ' ', el('button', { type: 'button', id: 'hook-secret-copy', onclick: async () => {
        out.select();
        try {
          await navigator.clipboard.writeText(secret);
          note.textContent = t('me.copied');
        } catch {
          note.textContent = t('me.copyFailed');
        }
      } }, t('me.copy')), ' ', note));
    once.hidden = false;
    out.select();
  }

  async function add(e) {
    e.preventDefault();
    fm.clear();
    once.hidden = true;
    const url = urlIn.value.trim();
    if (!url) return fm.fail(t('hook.needUrl'));
    const events = [...eventBox.querySelectorAll('input:checked')].map((i) => i.value);
    addBtn.disabled = true;
    try {
      const w = await api('POST', '/webhooks', { url, secret: secretIn.value, events });
      urlIn.value = '';
      secretIn.value = '';
      for (const i of eventBox.querySelectorAll('input')) i.checked = false;
      fm.done(t('hook.added', { url: w.url }));
      if (w.secret) showSecret(w.secret);
      pg.tick();
    } catch (err) {
      if (!err.handled) fm.fail(t('hook.failed', { msg: err.message }));
    } finally {
      addBtn.disabled = false;
    }
  }

  // ---- list ----
  async function testSend(w, btn) {
    btn.disabled = true;
    m.clear();
    const was = btn.textContent;
    btn.textContent = t('hook.testing');
    try {
      const r = await api('POST', `/webhooks/${enc(w.id)}/test`);
      if (r.ok) m.done(testText(r));
      else m.fail(testText(r));
      selected = w.id;
      pg.tick();
    } catch (err) {
      if (!err.handled) m.fail(t('hook.failed', { msg: err.message }));
    } finally {
      btn.disabled = false;
      btn.textContent = was;
    }
  }

  function lastTest(w) {
    const r = w.last_test;
    if (!r) return el('span', { class: 'muted', text: t('hook.neverTested') });
    return el('span', { class: 'hook-last-test', title: testText(r) },
      el('span', { class: r.ok ? 'badge ok' : 'badge bad', text: t(r.ok ? 'hook.testedOk' : 'hook.testedBad') }), ' ', timeEl(r.at));
  }

  function row(w) {
    const actions = el('td', { class: 'row-actions' },
      el('button', { type: 'button', class: 'small', dataset: { log: w.id }, onclick: () => {
        selected = selected === w.id ? '' : w.id;
        pg.tick();
      } }, t(selected === w.id ? 'hook.hideLog' : 'hook.showLog')));
    if (writer) {
      const test = el('button', { type: 'button', class: 'small', dataset: { test: w.id } }, t('hook.test'));
      test.addEventListener('click', () => testSend(w, test));
      append(actions, [' ', test, ' ', confirmButton(t('common.delete'), t('hook.confirmDelete'), { delete: w.id }, async () => {
        try {
          await api('DELETE', `/webhooks/${enc(w.id)}`);
          if (selected === w.id) selected = '';
          m.done(t('hook.deleted', { url: w.url }));
          pg.tick();
        } catch (err) {
          if (!err.handled) m.fail(t('hook.failed', { msg: err.message }));
        }
      })]);
    }
    return el('tr', { class: selected === w.id ? 'selected' : '', dataset: { id: w.id } },
      el('td', {}, el('code', { class: 'url hook-url', text: w.url })),
      el('td', { text: eventsText(w.events) }),
      el('td', {}, timeEl(w.created_at)),
      el('td', {}, lastTest(w)),
      actions);
  }

  function logRow(d) {
    // "receiver answered 500 …" only repeats the HTTP status beside it;
    // a connection error (no status) is the server's own words.
    const why = d.last_code && /^receiver answered /.test(d.last_error || '') ? '' : d.last_error || '';
    const event = d.test ? el('span', { class: 'tag', text: t('hook.testEvent') })
      : el('span', {}, statusBadge('alert', d.kind, 'alertKind'), ' ', el('span', { class: 'hook-summary', text: alertSummary(d) }));
    return el('tr', { dataset: { alert: d.alert, status: d.status, test: String(!!d.test) } },
      el('td', { class: 'nowrap', title: absTime(d.created_at) }, timeEl(d.created_at)),
      el('td', {}, event, el('div', { class: 'muted small' }, el('code', { text: d.alert }), d.by ? ` · ${d.by}` : '')),
      el('td', {}, statusBadge('delivery', d.status, 'delivery'),
        d.status === 'pending' && d.next_try_at ? el('div', { class: 'muted small', text: t('hook.nextTry', { time: absTime(d.next_try_at) }) }) : null),
      el('td', { class: 'num', text: fmtNumber(d.attempts || 0) }),
      el('td', { class: 'num', text: d.last_code ? String(d.last_code) : '—' }),
      el('td', { class: why ? 'error small' : 'muted', text: why || '—' }),
      el('td', { class: 'num', text: d.test ? t('hook.ms', { ms: fmtNumber(d.duration_ms || 0) }) : '—' }));
  }

  async function loadLog() {
    const w = hooks.find((x) => x.id === selected);
    if (!w) {
      logCard.hidden = true;
      return;
    }
    logCard.hidden = false;
    logTitle.replaceChildren(t('hook.log'), ' ', el('code', { class: 'url', text: w.url }));
    try {
      const list = (await api('GET', `/webhooks/${enc(w.id)}/deliveries?limit=100`)) || [];
      if (!pg.alive) return;
      lm.clear();
      logBody.replaceChildren(...list.map(logRow));
      if (!list.length) logBody.append(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: t('hook.noDeliveries') })));
    } catch (err) {
      if (!err.handled) lm.fail(t('hook.failed', { msg: err.message }));
    }
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, t('hook.title')), refreshBar(pg)),
    el('p', { class: 'muted', text: t('hook.hint') }),
    el('section', { class: 'card' }, el('h2', {}, t('hook.list')),
      m.error, m.ok,
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'webhooks' },
        el('thead', {}, el('tr', {}, el('th', {}, t('hook.url')), el('th', {}, t('hook.events')), el('th', {}, t('hook.created')),
          el('th', {}, t('hook.lastTest')), el('th', {}, ''))),
        tbody))),
    logCard,
    writer ? form : null,
  ]);

  pg.poll(async () => {
    hooks = (await api('GET', '/webhooks')) || [];
    if (!pg.alive) return;
    tbody.replaceChildren(...hooks.map(row));
    if (!hooks.length) tbody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: t('hook.none') })));
    await loadLog();
  });
}
