// Review screen: change sets, the unit of review before anything reaches a
// public screen. #/review shows the signed-in person's open change set
// (title, changes, submit, discard), the ones they handed in with the
// reviewer's verdict, and for reviewers the queue of others' submitted
// sets. #/review/<id> is one set: a field-by-field diff of every change,
// media thumbnails, the screens it reaches, conflicts, and the verdict
// buttons. An author never gets approve or reject on their own set (the
// server refuses it too: the two-person rule).

import {
  el, append, api, enc, L, can, isMe, session, timeEl, absTime, lookups, loadLookups, formMessages,
  confirmButton, refreshBar, thumbnails, changesetHref, statusBadge,
} from './kit.js';
import { targetSummary } from './targets.js';
import { knowScreens } from './paging.js';
import { t, label, fmtNumber } from './i18n.js';


export function stateBadge(state) {
  return statusBadge('cs', state, 'cs.state');
}

const csTitle = (cs) => cs.title || cs.id;

export default function reviewView(pg, id) {
  if (id) detail(pg, id);
  else overview(pg);
}

// ---- the overview --------------------------------------------------------

function overview(pg) {
  const writer = can('content.write') && !session.breakglass;
  const reviewer = can('review');
  const m = formMessages('cs');

  // My open change set. Built once per set so typing in the title field
  // survives the refresh loop.
  const openBox = el('div', { id: 'cs-open' }, el('p', { class: 'muted', text: t('common.loading') }));
  let openId = '';
  let openParts = null;

  const mineBody = el('tbody');
  const queueBody = el('tbody');

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, L('cs.title')), refreshBar(pg)),
    writer && el('section', { class: 'card', id: 'cs-mine' },
      el('h2', {}, L('cs.mine'), el('span', { class: 'hint', text: t('cs.mineHint') })),
      openBox, m.error, m.ok),
    reviewer && el('section', { class: 'card', id: 'cs-queue' },
      el('h2', {}, L('cs.queue'), el('span', { class: 'hint', text: t('cs.queueHint') })),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'cs-queue-list' },
        el('thead', {}, el('tr', {}, el('th', {}, L('cs.titleLabel')), el('th', {}, L('cs.author')),
          el('th', { class: 'num' }, t('cs.changes')), el('th', {}, L('cs.submittedAt')), el('th', {}, ''))),
        queueBody))),
    writer && el('section', { class: 'card', id: 'cs-history' },
      el('h2', {}, L('cs.myHistory')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'cs-mine-list' },
        el('thead', {}, el('tr', {}, el('th', {}, L('cs.titleLabel')), el('th', {}, L('cs.state')),
          el('th', { class: 'num' }, t('cs.changes')), el('th', {}, L('cs.submittedAt')), el('th', {}, L('cs.by')),
          el('th', {}, L('cs.comment')))),
        mineBody))),
  ]);

  function buildOpen(cs) {
    const titleIn = el('input', { id: 'cs-title', maxlength: 200, autocomplete: 'off', value: cs.title || '' });
    const changes = el('div', { class: 'cs-changes' });
    const reach = el('div', { class: 'cs-reach-box' });
    const submitBtn = el('button', { type: 'button', class: 'primary', id: 'cs-submit', onclick: async () => {
      submitBtn.disabled = true;
      try {
        // A changed title goes with the submission.
        if (titleIn.value.trim() !== (cs.title || '')) await api('PUT', `/changesets/${enc(cs.id)}`, { title: titleIn.value.trim() });
        await api('POST', `/changesets/${enc(cs.id)}/submit`);
        m.done(t('cs.submitted'));
        pg.tick();
      } catch (err) {
        if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
      } finally {
        submitBtn.disabled = false;
      }
    } }, L('cs.submit'));
    const discard = confirmButton(t('cs.discard'), t('cs.confirmDiscard'), {}, async () => {
      try {
        await api('DELETE', `/changesets/${enc(cs.id)}`);
        m.done(t('cs.discarded'));
        pg.tick();
      } catch (err) {
        if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
      }
    });
    discard.id = 'cs-discard';
    const node = el('div', { class: 'cs-open', dataset: { id: cs.id } },
      el('div', { class: 'cs-title-row' },
        el('label', { for: 'cs-title' }, L('cs.titleLabel')), titleIn,
        el('button', { type: 'button', id: 'cs-save-title', onclick: async () => {
          try {
            await api('PUT', `/changesets/${enc(cs.id)}`, { title: titleIn.value.trim() });
            cs.title = titleIn.value.trim();
            m.done(t('cs.titleSaved'));
          } catch (err) {
            if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
          }
        } }, L('cs.saveTitle'))),
      el('p', { class: 'muted small' }, el('code', { text: cs.id }), ' · ', el('a', { href: changesetHref(cs.id) }, t('cs.open'), ' →')),
      changes, reach,
      el('div', { class: 'form-actions' }, submitBtn, ' ', discard));
    return { node, changes, reach, submitBtn };
  }

  function renderOpen(cs) {
    if (!cs) {
      openId = '';
      openParts = null;
      openBox.replaceChildren(el('p', { class: 'muted', id: 'cs-none', text: t('cs.noOpen') }));
      return;
    }
    if (cs.id !== openId) {
      openId = cs.id;
      openParts = buildOpen(cs);
      openBox.replaceChildren(openParts.node);
    }
    const list = cs.changes || [];
    openParts.changes.replaceChildren(list.length
      ? el('ul', { class: 'plain cs-change-list' }, list.map((c) => el('li', { dataset: { kind: c.kind, action: c.action, id: c.id } },
        actionBadge(c.action), ' ', t('cs.kind.' + c.kind), ' ', el('span', { class: 'cs-label', text: changeLabel(c) }))))
      : el('p', { class: 'muted', text: t('cs.noChanges') }));
    openParts.reach.replaceChildren();
    append(openParts.reach, [reachNode(cs.reach), conflictsNode(cs.conflicts)]);
    openParts.submitBtn.disabled = !list.length;
  }

  function row(cs, withState) {
    return el('tr', { dataset: { id: cs.id, state: cs.state } },
      el('td', {}, el('a', { class: 'cs-link', href: changesetHref(cs.id), text: csTitle(cs) })),
      withState ? el('td', {}, stateBadge(cs.state)) : el('td', { text: cs.author_name || cs.author || '—' }),
      el('td', { class: 'num', text: fmtNumber(opsCount(cs)) }),
      el('td', {}, timeEl(cs.submitted_at)),
      withState ? el('td', { text: cs.decided_by_name || cs.decided_by || '—' })
        : el('td', {}, el('a', { class: 'button-link', href: changesetHref(cs.id), dataset: { review: cs.id } }, t('cs.review'))),
      withState ? el('td', { class: 'cs-comment', text: cs.comment || '' }) : null);
  }

  pg.poll(async () => {
    const [open, mine, queue] = await Promise.all([
      writer ? api('GET', '/changesets?state=open&mine=1') : null,
      writer ? api('GET', '/changesets?mine=1') : null,
      reviewer ? api('GET', '/changesets?state=submitted') : null,
    ]);
    let openCS = null;
    const first = (open || []).find((cs) => cs.state === 'open');
    if (first) openCS = await api('GET', `/changesets/${enc(first.id)}`);
    if (!pg.alive) return;
    if (writer) {
      renderOpen(openCS);
      const done = (mine || []).filter((cs) => cs.state !== 'open');
      mineBody.replaceChildren(...done.map((cs) => row(cs, true)));
      if (!done.length) mineBody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: t('cs.noHistory') })));
    }
    if (reviewer) {
      const others = (queue || []).filter((cs) => !isMe(cs.author));
      queueBody.replaceChildren(...others.map((cs) => row(cs, false)));
      if (!others.length) queueBody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: t('cs.noQueue') })));
    }
  });
}

// ---- one change set ------------------------------------------------------

function detail(pg, id) {
  const m = formMessages('cs');
  const head = el('div', { id: 'cs-head' });
  const actions = el('div', { id: 'cs-actions' });
  const reachBox = el('section', { class: 'card', id: 'cs-reach-card' });
  const diffBox = el('div', { id: 'cs-diff' }, el('p', { class: 'muted', text: t('common.loading') }));
  let mimes = new Map();
  const thumbFor = thumbnails(pg, (sha) => mimes.get(sha));
  let shown = ''; // what the page shows (state and update time): redraw only when it changes

  append(pg.root, [
    el('p', { class: 'crumbs' }, el('a', { href: '#/review' }, '← ', L('cs.title'))),
    el('div', { class: 'page-head' }, head, refreshBar(pg)),
    el('section', { class: 'card' }, actions, m.error, m.ok),
    reachBox,
    el('section', { class: 'card' }, el('h2', {}, L('cs.changes')), diffBox),
  ]);

  function renderHead(cs) {
    head.replaceChildren(el('div', { class: 'title-row' },
      el('h1', { id: 'cs-name', text: csTitle(cs) }), stateBadge(cs.state)));
    append(head, el('p', { class: 'muted small' },
      el('code', { text: cs.id }), ` · ${t('cs.author')} `, el('span', { id: 'cs-author', text: cs.author_name || cs.author || '—' }),
      ` · ${t('cs.ops', { n: opsCount(cs) })} · ${t('cs.updated')} `, timeEl(cs.updated_at),
      cs.submitted_at ? [` · ${t('cs.submittedAt')} `, timeEl(cs.submitted_at)] : null));
  }

  function renderActions(cs) {
    const parts = [];
    if (cs.decided_at || cs.comment) {
      parts.push(el('div', { class: 'cs-verdict', id: 'cs-verdict' },
        stateBadge(cs.state), ' ', cs.decided_by_name || cs.decided_by || '', ' ', cs.decided_at ? timeEl(cs.decided_at) : null,
        cs.comment ? el('blockquote', { class: 'cs-comment', text: cs.comment }) : null));
    }
    const mine = isMe(cs.author);
    if (mine && cs.state === 'open') {
      parts.push(el('div', { class: 'form-actions' },
        el('button', { type: 'button', class: 'primary', id: 'cs-submit', disabled: !(cs.changes || []).length, onclick: (e) => step(e.currentTarget, 'submit', t('cs.submitted')) }, L('cs.submit')),
        ' ', discardButton(cs, 'cs.discard', 'cs.confirmDiscard')));
    } else if (mine && cs.state === 'submitted') {
      parts.push(el('div', { class: 'form-actions' }, discardButton(cs, 'cs.withdraw', 'cs.confirmWithdraw')));
    }
    if (mine && cs.state === 'submitted') {
      parts.push(el('p', { class: 'muted', id: 'cs-self', text: can('review') ? t('cs.selfReview') : t('cs.waiting') }));
    }
    // can_approve is the server's word (review capability, not the
    // author, submitted); the rest is for a server that does not say.
    const mayDecide = typeof cs.can_approve === 'boolean' ? cs.can_approve : !mine && can('review') && cs.state === 'submitted';
    if (mayDecide && !mine) {
      const comment = el('textarea', { id: 'cs-comment', rows: 2, maxlength: 2000 });
      parts.push(el('div', { class: 'cs-verdict-form' },
        el('div', { class: 'form-actions' },
          el('button', { type: 'button', class: 'primary', id: 'cs-approve', disabled: (cs.conflicts || []).length > 0,
            onclick: (e) => step(e.currentTarget, 'approve', t('cs.approved')) }, L('cs.approve'))),
        el('label', { for: 'cs-comment' }, L('cs.rejectComment')), comment,
        el('div', { class: 'form-actions' },
          el('button', { type: 'button', class: 'danger', id: 'cs-reject', onclick: (e) => {
            const text = comment.value.trim();
            if (!text) {
              m.fail(t('cs.needComment'));
              comment.focus();
              return;
            }
            step(e.currentTarget, 'reject', t('cs.rejected'), { comment: text });
          } }, L('cs.reject')))));
    }
    actions.replaceChildren(...parts);
    if (!parts.length) actions.append(el('p', { class: 'muted' }, stateBadge(cs.state)));
  }

  function discardButton(cs, key, confirmKey) {
    const b = confirmButton(t(key), t(confirmKey), {}, async () => {
      try {
        await api('DELETE', `/changesets/${enc(cs.id)}`);
        m.done(t('cs.discarded'));
        shown = '';
        pg.tick();
      } catch (err) {
        if (!err.handled) m.fail(t('cs.failed', { msg: err.message }));
      }
    });
    b.id = 'cs-discard';
    return b;
  }

  async function step(btn, what, doneText, body) {
    btn.disabled = true;
    m.clear();
    try {
      await api('POST', `/changesets/${enc(id)}/${what}`, body);
      m.done(doneText);
      shown = '';
      lookups.at = 0;
      pg.tick();
    } catch (err) {
      btn.disabled = false;
      if (err.handled) return;
      m.fail(err.code === 'conflict' || err.status === 409 ? t('cs.conflictFail', { msg: err.message }) : t('cs.failed', { msg: err.message }));
    }
  }

  pg.poll(async () => {
    const [cs, pls, assets] = await Promise.all([
      api('GET', `/changesets/${enc(id)}`), api('GET', '/playlists'), api('GET', '/assets'), loadLookups(),
    ]);
    if (!pg.alive) return;
    const key = `${cs.state}|${cs.updated_at}|${cs.decided_at || ''}|${JSON.stringify(cs.conflicts || [])}`;
    if (key === shown) return;
    // The names of the screens the changes target, by id: not the fleet.
    const targeted = (cs.changes || []).flatMap((c) => [c.before, c.after])
      .flatMap((o) => (o && o.target && o.target.screens) || []);
    const screenNames = await knowScreens(targeted);
    if (!pg.alive) return;
    shown = key;
    mimes = new Map((assets || []).map((a) => [a.sha256, a.mime]));
    const ctx = {
      thumbFor,
      items: new Map([...lookups.items]),
      playlists: new Map((pls || []).map((p) => [p.id, p])),
      screenNames,
    };
    // Titles of items and names of playlists this set creates or renames.
    for (const c of cs.changes || []) {
      if (c.kind === 'item' && c.after) ctx.items.set(c.id, c.after);
      if (c.kind === 'playlist' && c.after) ctx.playlists.set(c.id, c.after);
    }
    renderHead(cs);
    renderActions(cs);
    reachBox.replaceChildren(el('h2', {}, L('cs.reach')));
    append(reachBox, [reachNode(cs.reach), conflictsNode(cs.conflicts)]);
    const changes = cs.changes || [];
    diffBox.replaceChildren(...changes.map((c) => changeNode(c, ctx)));
    if (!changes.length) diffBox.append(el('p', { class: 'muted', text: t('cs.noChanges') }));
  });
}

// ---- pieces --------------------------------------------------------------

const opsCount = (cs) => (typeof cs.ops === 'number' ? cs.ops : Array.isArray(cs.ops) ? cs.ops.length : (cs.changes || []).length);

function actionBadge(action) {
  return el('span', { class: `badge cs-action cs-action-${String(action).replace(/[^a-z_]/g, '')}`, dataset: { action } },
    label('cs.action', action));
}

function changeLabel(c) {
  const o = c.after || c.before || {};
  return c.label || o.title || o.name || c.id;
}

function reachNode(reach) {
  if (!reach) return null;
  const screens = reach.screens || [];
  const n = typeof reach.count === 'number' ? reach.count : screens.length;
  if (!n) return el('p', { class: 'muted cs-reach', id: 'cs-reach', dataset: { count: 0 }, text: t('cs.reachNone') });
  const shown = screens.slice(0, 30);
  return el('div', { class: 'cs-reach', id: 'cs-reach', dataset: { count: n } },
    el('p', {}, el('strong', { text: t('cs.reachN', { n }) })),
    el('ul', { class: 'inline-list' }, shown.map((s) => el('li', { title: s.group || '' }, s.name || s.id))),
    screens.length > shown.length ? el('p', { class: 'muted small', text: `… +${screens.length - shown.length}` }) : null);
}

function conflictsNode(conflicts) {
  if (!conflicts || !conflicts.length) return null;
  return el('div', { class: 'cs-conflicts', id: 'cs-conflicts' },
    el('h3', { class: 'error' }, L('cs.conflicts')),
    el('p', { class: 'muted small', text: t('cs.conflictsHint') }),
    el('ul', { class: 'plain' }, conflicts.map((c) => el('li', { class: 'error', text: String(c) }))));
}

// Fields in the order a person reads them; others follow alphabetically.
const FIELD_ORDER = {
  item: ['kind', 'title', 'body', 'duration_s', 'asset'],
  playlist: ['name', 'items'],
  schedule: ['name', 'playlist', 'target', 'cron', 'duration_s', 'from', 'to', 'priority'],
  screen: ['name', 'default_playlist'],
  group: ['name', 'default_playlist'],
};
const SKIP = new Set(['id', 'created_at', 'updated_at', 'changeset']);

function changeNode(c, ctx) {
  const before = c.before || null;
  const after = c.after || null;
  const keys = [];
  for (const k of FIELD_ORDER[c.kind] || []) if ((before && k in before) || (after && k in after)) keys.push(k);
  const rest = new Set([...Object.keys(before || {}), ...Object.keys(after || {})]);
  for (const k of [...rest].sort()) if (!keys.includes(k) && !SKIP.has(k)) keys.push(k);
  const same = (k) => JSON.stringify(before ? before[k] : undefined) === JSON.stringify(after ? after[k] : undefined);
  // An update shows what changed first and the rest greyed; create and
  // delete show every field.
  const rows = keys.map((k) => {
    const changed = !before || !after || !same(k);
    return el('tr', { class: changed ? 'changed' : 'same', dataset: { field: k } },
      el('th', { scope: 'row' }, label('field', k)),
      el('td', { class: 'diff-before' }, before ? value(c.kind, k, before[k], ctx) : el('span', { class: 'muted', text: t('cs.created') })),
      el('td', { class: 'diff-after' }, after ? value(c.kind, k, after[k], ctx) : el('span', { class: 'muted', text: t('cs.deleted') })));
  });
  return el('article', { class: `cs-change action-${c.action}`, dataset: { kind: c.kind, action: c.action, id: c.id } },
    el('h3', {}, actionBadge(c.action), ' ', label('cs.kind', c.kind), ' ',
      el('span', { class: 'cs-label', text: changeLabel(c) }), ' ', el('code', { class: 'muted small', text: c.id })),
    el('div', { class: 'table-wrap' }, el('table', { class: 'grid diff' },
      el('thead', {}, el('tr', {}, el('th', {}, L('cs.field')), el('th', {}, L('cs.before')), el('th', {}, L('cs.after')))),
      el('tbody', {}, rows))));
}

function value(kind, key, v, ctx) {
  const none = () => el('span', { class: 'muted', text: '—' });
  if (v === undefined || v === null || v === '') return none();
  switch (key) {
    case 'kind':
      return kind === 'item' ? label('kind', v) : String(v);
    case 'asset':
      return el('span', { class: 'diff-asset' }, ctx.thumbFor(v), ' ', el('code', { class: 'small', title: v, text: String(v).slice(0, 12) }));
    case 'items':
      if (!Array.isArray(v)) break;
      if (!v.length) return el('span', { class: 'muted', text: t('cs.empty') });
      return el('ol', { class: 'plain diff-items' }, v.map((id) => el('li', { title: id, text: ctx.items.has(id) ? ctx.items.get(id).title : id })));
    case 'playlist':
    case 'default_playlist':
      return ctx.playlists.has(v) ? `${ctx.playlists.get(v).name}` : String(v);
    case 'target':
      return targetSummary(v, ctx.screenNames);
    case 'from':
    case 'to':
      return absTime(v);
    case 'duration_s':
      return t('dur.s', { s: v });
    case 'body':
      return el('div', { class: 'diff-text', text: String(v) });
    default:
      break;
  }
  if (typeof v === 'object') return el('code', { class: 'small', text: JSON.stringify(v) });
  return el('span', { class: 'diff-text', text: String(v) });
}
