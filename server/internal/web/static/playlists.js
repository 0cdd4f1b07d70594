// playlists screen of the admin page.

import {
  el, append, bi, timeEl, fmtDuration, api, enc, formMessages, confirmButton, refreshBar, can,
  myOpenChangeSet, overlayDrafts, draftTag,
} from './kit.js';
import { label } from './i18n.js';

export default function playlistsView(pg) {
  const m = formMessages('playlist');
  const writer = can('content.write'); // technicians and viewers get the list only
  let editing = null;
  let order = []; // item ids in play order; an item may appear twice
  let items = new Map();

  const heading = el('h2', { id: 'playlist-form-title' });
  const nameIn = el('input', { id: 'p-name', name: 'name', required: true, maxlength: 200, autocomplete: 'off' });
  const orderList = el('ol', { id: 'p-items', class: 'order' });
  const addSel = el('select', { id: 'p-add' });
  const addBtn = el('button', { type: 'button', id: 'p-add-btn', onclick: () => {
    if (!addSel.value) return;
    order.push(addSel.value);
    renderOrder();
  } }, bi('添加', 'Add'));
  const saveBtn = el('button', { type: 'submit', class: 'primary', id: 'p-save' });
  const cancelBtn = el('button', { type: 'button', id: 'p-cancel', onclick: () => reset() }, bi('取消编辑', 'Cancel'));
  const tbody = el('tbody');

  const titleOf = (id) => (items.get(id) ? items.get(id).title : id);

  function renderOrder() {
    const move = (i, d) => {
      [order[i], order[i + d]] = [order[i + d], order[i]];
      renderOrder();
    };
    orderList.replaceChildren(...order.map((id, i) => el('li', { dataset: { id } },
      el('span', { class: 'p-item-title', text: titleOf(id) }),
      items.has(id) ? el('span', { class: 'muted small', text: ` · ${items.get(id).duration_s} 秒` })
        : el('span', { class: 'error small', text: ' · 已不存在 missing' }),
      el('span', { class: 'order-buttons' },
        el('button', { type: 'button', class: 'small', title: '上移 move up', dataset: { up: i }, disabled: i === 0, onclick: () => move(i, -1) }, '↑'),
        el('button', { type: 'button', class: 'small', title: '下移 move down', dataset: { down: i }, disabled: i === order.length - 1, onclick: () => move(i, 1) }, '↓'),
        el('button', { type: 'button', class: 'small danger', title: '移除 remove', dataset: { remove: i }, onclick: () => {
          order.splice(i, 1);
          renderOrder();
        } }, '移除')))));
    if (!order.length) orderList.append(el('li', { class: 'muted empty-order', text: '还没有内容，从下面添加。' }));
  }

  function renderAddOptions() {
    const keep = addSel.value;
    const list = [...items.values()].sort((a, b) => a.title.localeCompare(b.title, 'zh-CN'));
    addSel.replaceChildren(el('option', { value: '', text: '选择内容… choose an item' }),
      ...list.map((it) => el('option', { value: it.id, text: `${it.title} · ${label('kind', it.kind)}` })));
    if (items.has(keep)) addSel.value = keep;
  }

  function reset() {
    editing = null;
    order = [];
    heading.replaceChildren(bi('新建播放列表', 'New playlist'));
    saveBtn.replaceChildren(bi('创建', 'Create'));
    cancelBtn.hidden = true;
    nameIn.value = '';
    renderOrder();
  }

  function edit(p) {
    editing = p;
    order = (p.items || []).slice();
    m.clear();
    heading.replaceChildren(bi('编辑播放列表', 'Edit playlist'), ' ', el('code', { text: p.id }));
    saveBtn.replaceChildren(bi('保存', 'Save'));
    cancelBtn.hidden = false;
    nameIn.value = p.name || '';
    renderOrder();
    form.scrollIntoView({ block: 'start' });
    nameIn.focus();
  }

  const form = el('form', { id: 'playlist-form', class: 'card form', method: 'post', novalidate: true, onsubmit: submit },
    heading,
    el('label', { for: 'p-name' }, bi('名称', 'Name')), nameIn,
    el('label', {}, bi('播放顺序', 'Order'), el('span', { class: 'hint', text: '从上到下依次轮播；同一内容可以出现多次。' })),
    orderList,
    el('div', { class: 'add-row' }, addSel, ' ', addBtn),
    el('div', { class: 'form-actions' }, saveBtn, ' ', cancelBtn),
    m.error, m.ok);

  async function submit(e) {
    e.preventDefault();
    m.clear();
    const name = nameIn.value.trim();
    if (!name) return m.fail('请填写名称。name: is required');
    saveBtn.disabled = true;
    try {
      const body = { name, items: order.slice() };
      // PUT replaces the whole playlist, order included.
      const p = editing
        ? await api('PUT', `/playlists/${enc(editing.id)}`, body)
        : await api('POST', '/playlists', body);
      reset();
      m.saved(`已保存「${name}」。Saved.`, p);
      pg.tick();
    } catch (err) {
      if (!err.handled) m.fail(`保存失败 (rejected)：${err.message}`);
    } finally {
      saveBtn.disabled = false;
    }
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, bi('播放列表', 'Playlists')), refreshBar(pg)),
    writer ? form : null,
    el('section', { class: 'card' }, el('h2', {}, bi('全部播放列表', 'All playlists')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'playlists' },
        el('thead', {}, el('tr', {}, el('th', {}, '名称'), el('th', {}, '内容（按顺序）'), el('th', { class: 'num' }, '一轮时长'),
          el('th', {}, '更新'), el('th', {}, ''))),
        tbody))),
  ]);
  reset();

  pg.poll(async () => {
    const [list, itemList, draft] = await Promise.all([api('GET', '/playlists'), api('GET', '/items'), myOpenChangeSet()]);
    if (!pg.alive) return;
    // A drafted delete still lists the item: it is published until approval.
    items = new Map(overlayDrafts(itemList, draft, 'item').map((i) => [i.id, i]));
    renderAddOptions();
    renderOrder();
    const pls = overlayDrafts(list, draft, 'playlist').slice().sort((a, b) => (a.name || '').localeCompare(b.name || '', 'zh-CN'));
    tbody.replaceChildren(...pls.map((p) => {
      const ids = p.items || [];
      const total = ids.reduce((n, id) => n + (items.has(id) ? items.get(id).duration_s : 0), 0);
      return el('tr', { class: p._draft ? 'draft-row' : '', dataset: { id: p.id, draft: p._draft || '' } },
        el('td', {}, el('div', { class: 'p-name', text: p.name }), draftTag(p)),
        el('td', {}, ids.length ? el('ol', { class: 'plain' }, ids.map((id) => el('li', { text: titleOf(id) })))
          : el('span', { class: 'muted', text: '（空）' })),
        el('td', { class: 'num', text: fmtDuration(total) }),
        el('td', {}, timeEl(p.updated_at || p.created_at)),
        el('td', { class: 'row-actions' }, writer ? [
          el('button', { type: 'button', class: 'small', dataset: { edit: p.id }, onclick: () => edit(p) }, '编辑'), ' ',
          confirmButton('删除', '确认删除？', { delete: p.id }, async () => {
            try {
              const r = await api('DELETE', `/playlists/${enc(p.id)}`);
              if (editing && editing.id === p.id) reset();
              m.saved(`已删除「${p.name}」。Deleted.`, r);
              pg.tick();
            } catch (err) {
              if (!err.handled) m.fail(`删除失败 (delete failed)：${err.message}`);
            }
          })] : null));
    }));
    if (!pls.length) tbody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: '还没有播放列表。No playlists yet.' })));
  });
}
