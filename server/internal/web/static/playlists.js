// Playlists screen of the admin page: the ordered items a schedule plays,
// built with the shared form and table of forms.js. The order is a
// control of its own (add, move up and down, remove); an item may appear
// more than once. Drafted items and playlists (the editor's open change
// set) are laid over the published ones, so a new item can go into a
// playlist before anyone approves it.

import {
  el, append, timeEl, fmtDuration, api, enc, refreshBar, can, myOpenChangeSet, overlayDrafts, draftTag,
} from './kit.js';
import { t, label, compareText } from './i18n.js';
import { editForm, listTable } from './forms.js';

export default function playlistsView(pg) {
  const writer = can('content.write'); // technicians and viewers get the list only
  let order = []; // item ids in play order
  let items = new Map();

  const titleOf = (id) => (items.get(id) ? items.get(id).title : id);

  const orderList = el('ol', { id: 'p-items', class: 'order' });
  const addSel = el('select', { id: 'p-add', 'aria-label': t('pl.choose') });
  const addBtn = el('button', { type: 'button', id: 'p-add-btn', onclick: () => {
    if (!addSel.value) return;
    order.push(addSel.value);
    renderOrder();
  } }, t('pl.add'));

  function renderOrder() {
    const move = (i, d) => {
      [order[i], order[i + d]] = [order[i + d], order[i]];
      renderOrder();
    };
    orderList.replaceChildren(...order.map((id, i) => el('li', { dataset: { id } },
      el('span', { class: 'p-item-title', text: titleOf(id) }),
      items.has(id) ? el('span', { class: 'muted small', text: ' · ' + t('dur.s', { s: items.get(id).duration_s }) })
        : el('span', { class: 'error small', text: ' · ' + t('pl.missing') }),
      el('span', { class: 'order-buttons' },
        el('button', { type: 'button', class: 'small', title: t('pl.up'), 'aria-label': t('pl.up'), dataset: { up: i }, disabled: i === 0, onclick: () => move(i, -1) }, '↑'),
        el('button', { type: 'button', class: 'small', title: t('pl.down'), 'aria-label': t('pl.down'), dataset: { down: i }, disabled: i === order.length - 1, onclick: () => move(i, 1) }, '↓'),
        el('button', { type: 'button', class: 'small danger', dataset: { remove: i }, onclick: () => {
          order.splice(i, 1);
          renderOrder();
        } }, t('pl.remove'))))));
    if (!order.length) orderList.append(el('li', { class: 'muted empty-order', text: t('pl.emptyOrder') }));
  }

  function renderAddOptions() {
    const keep = addSel.value;
    const list = [...items.values()].sort((a, b) => compareText(a.title, b.title));
    addSel.replaceChildren(el('option', { value: '', text: t('pl.choose') }),
      ...list.map((it) => el('option', { value: it.id, text: `${it.title} · ${label('kind', it.kind)}` })));
    if (items.has(keep)) addSel.value = keep;
  }

  const form = editForm({
    id: 'playlist',
    prefix: 'p',
    titles: { create: t('pl.new'), edit: t('pl.edit') },
    fields: [
      { name: 'name', label: t('pl.name'), required: true, maxlength: 200, autocomplete: 'off' },
      {
        name: 'items', label: t('pl.order'), hint: t('pl.orderHint'),
        control: el('div', { class: 'p-order' }, orderList, el('div', { class: 'add-row' }, addSel, ' ', addBtn)),
        get: () => order.slice(),
        set: (v) => {
          order = (v || []).slice();
          renderOrder();
        },
      },
    ],
    focus: 'name',
    // PUT replaces the whole playlist, order included.
    save: (body, editing) => (editing ? api('PUT', `/playlists/${enc(editing.id)}`, body) : api('POST', '/playlists', body)),
    savedText: (body) => t('pl.saved', { name: body.name }),
    onSaved: () => pg.tick(),
  });

  const table = listTable({
    id: 'playlists',
    columns: [
      { head: t('pl.name'), cell: (p) => [el('div', { class: 'p-name', text: p.name }), draftTag(p)] },
      { head: t('pl.items'), cell: (p) => ((p.items || []).length
        ? el('ol', { class: 'plain' }, p.items.map((id) => el('li', { text: titleOf(id) })))
        : el('span', { class: 'muted', text: t('common.none') })) },
      { head: t('pl.loop'), class: 'num', cell: (p) => fmtDuration((p.items || []).reduce((n, id) => n + (items.has(id) ? items.get(id).duration_s : 0), 0)) },
      { head: t('pl.updated'), cell: (p) => timeEl(p.updated_at || p.created_at) },
    ],
    rowClass: (p) => (p._draft ? 'draft-row' : ''),
    rowData: (p) => ({ draft: p._draft || '' }),
    actions: writer ? (p) => [form.editButton(p), ' ',
      form.deleteButton(p, { name: p.name, remove: () => api('DELETE', `/playlists/${enc(p.id)}`) })] : null,
    empty: t('pl.none'),
  });

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', { text: t('pl.title') }), refreshBar(pg)),
    writer ? form.element : null,
    el('section', { class: 'card' }, el('h2', { text: t('pl.all') }), table.element),
  ]);

  pg.poll(async () => {
    const [list, itemList, draft] = await Promise.all([api('GET', '/playlists'), api('GET', '/items'), myOpenChangeSet()]);
    if (!pg.alive) return;
    // A drafted delete still lists the item: it is published until approval.
    items = new Map(overlayDrafts(itemList, draft, 'item').map((i) => [i.id, i]));
    renderAddOptions();
    renderOrder();
    table.render(overlayDrafts(list, draft, 'playlist').slice().sort((a, b) => compareText(a.name, b.name)));
  });
}
