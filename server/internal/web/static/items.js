// items screen of the admin page.

import {
  el, append, bi, timeEl, api, enc, lookups, formMessages, confirmButton, refreshBar, kindBadge, thumbnails, can,
  myOpenChangeSet, overlayDrafts, draftTag,
} from './kit.js';
import { ITEM_KINDS, label } from './i18n.js';

const MEDIA_ACCEPT = 'image/png,image/jpeg,image/webp,image/gif,video/mp4,video/webm';

export default function itemsView(pg) {
  const m = formMessages('item');
  let editing = null; // the item being edited, or null for a new one
  let uploaded = null; // {file, sha}: a retry after a refused save does not upload again
  let mimes = new Map(); // asset sha → MIME, from GET /assets
  const thumbFor = thumbnails(pg, (sha) => mimes.get(sha));
  const writer = can('content.write'); // technicians and viewers get the list only

  const heading = el('h2', { id: 'item-form-title' });
  const kindSel = el('select', { id: 'i-kind', name: 'kind' },
    ITEM_KINDS.map((k) => el('option', { value: k, text: label('kind', k) })));
  const titleIn = el('input', { id: 'i-title', name: 'title', required: true, maxlength: 200, autocomplete: 'off' });
  const bodyIn = el('textarea', { id: 'i-body', name: 'body', rows: 4, maxlength: 5000 });
  const durIn = el('input', { id: 'i-duration', name: 'duration_s', type: 'number', min: 1, max: 3600, step: 1 });
  const fileIn = el('input', { id: 'i-file', name: 'file', type: 'file', accept: MEDIA_ACCEPT });
  const keepBox = el('div', { id: 'i-current-media', hidden: true });
  const removeMedia = el('input', { type: 'checkbox', id: 'i-remove-media' });
  const saveBtn = el('button', { type: 'submit', class: 'primary', id: 'i-save' });
  const cancelBtn = el('button', { type: 'button', id: 'i-cancel', onclick: () => reset() }, bi('取消编辑', 'Cancel'));
  const tbody = el('tbody');

  function reset() {
    editing = null;
    uploaded = null;
    heading.replaceChildren(bi('新建内容', 'New item'));
    saveBtn.replaceChildren(bi('创建', 'Create'));
    cancelBtn.hidden = true;
    kindSel.value = 'notice';
    titleIn.value = '';
    bodyIn.value = '';
    durIn.value = '10';
    fileIn.value = '';
    keepBox.hidden = true;
    removeMedia.checked = false;
  }

  function edit(it) {
    editing = it;
    uploaded = null;
    m.clear();
    heading.replaceChildren(bi('编辑内容', 'Edit item'), ' ', el('code', { text: it.id }));
    saveBtn.replaceChildren(bi('保存', 'Save'));
    cancelBtn.hidden = false;
    kindSel.value = it.kind;
    titleIn.value = it.title || '';
    bodyIn.value = it.body || '';
    durIn.value = String(it.duration_s || 10);
    fileIn.value = '';
    removeMedia.checked = false;
    keepBox.hidden = !it.asset;
    if (it.asset) {
      keepBox.replaceChildren(el('span', { class: 'muted' }, '当前媒体 current media: '), thumbFor(it.asset),
        ' ', el('label', { class: 'inline' }, removeMedia, ' ', bi('移除媒体', 'remove media')));
    }
    form.scrollIntoView({ block: 'start' });
    titleIn.focus();
  }

  const form = el('form', { id: 'item-form', class: 'card form', method: 'post', novalidate: true, onsubmit: submit },
    heading,
    el('label', { for: 'i-kind' }, bi('类型', 'Kind')), kindSel,
    el('label', { for: 'i-title' }, bi('标题', 'Title')), titleIn,
    el('label', { for: 'i-body' }, bi('正文', 'Body')), bodyIn,
    el('label', { for: 'i-duration' }, bi('播放时长（秒）', 'Duration, seconds'),
      el('span', { class: 'hint', text: '每次轮到时显示多久，1–3600 秒。' })), durIn,
    el('label', { for: 'i-file' }, bi('媒体（可选）', 'Media, optional'),
      el('span', { class: 'hint', text: 'PNG、JPEG、WebP、GIF 图片或 MP4、WebM 视频；保存时上传。' })), fileIn,
    keepBox,
    el('div', { class: 'form-actions' }, saveBtn, ' ', cancelBtn),
    m.error, m.ok);

  async function submit(e) {
    e.preventDefault();
    m.clear();
    const title = titleIn.value.trim();
    if (!title) return m.fail('请填写标题。title: is required');
    const dur = Number(durIn.value || '10');
    if (!Number.isInteger(dur) || dur < 1 || dur > 3600) return m.fail('播放时长须为 1–3600 的整数秒。duration_s: 1–3600');
    saveBtn.disabled = true;
    try {
      let asset = editing && !removeMedia.checked ? editing.asset || '' : '';
      const file = fileIn.files && fileIn.files[0];
      if (file) {
        if (!uploaded || uploaded.file !== file) {
          m.done(`正在上传「${file.name}」…`);
          const fd = new FormData();
          fd.append('file', file);
          const a = await api('POST', '/assets', fd);
          uploaded = { file, sha: a.sha256 };
          mimes.set(a.sha256, a.mime);
        }
        asset = uploaded.sha;
      }
      const body = { kind: kindSel.value, title, body: bodyIn.value, duration_s: dur };
      if (asset) body.asset = asset;
      const it = editing
        ? await api('PUT', `/items/${enc(editing.id)}`, body)
        : await api('POST', '/items', body);
      reset();
      m.saved(`已保存「${title}」。Saved.`, it);
      lookups.at = 0;
      pg.tick();
    } catch (err) {
      if (!err.handled) m.fail(`保存失败 (rejected)：${err.message}`);
    } finally {
      saveBtn.disabled = false;
    }
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', {}, bi('内容', 'Items')), refreshBar(pg)),
    writer ? form : null,
    el('section', { class: 'card' }, el('h2', {}, bi('全部内容', 'All items')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'items' },
        el('thead', {}, el('tr', {}, el('th', {}, '类型'), el('th', {}, '标题'), el('th', { class: 'num' }, '时长'),
          el('th', {}, '媒体'), el('th', {}, '更新'), el('th', {}, ''))),
        tbody))),
  ]);
  reset();

  pg.poll(async () => {
    const [items, assets, draft] = await Promise.all([api('GET', '/items'), api('GET', '/assets'), myOpenChangeSet()]);
    if (!pg.alive) return;
    mimes = new Map((assets || []).map((a) => [a.sha256, a.mime]));
    const list = overlayDrafts(items, draft, 'item').slice().sort((a, b) => String(b.updated_at || '').localeCompare(String(a.updated_at || '')));
    tbody.replaceChildren(...list.map((it) => el('tr', { class: it._draft ? 'draft-row' : '', dataset: { id: it.id, kind: it.kind, draft: it._draft || '' } },
      el('td', {}, kindBadge(it.kind)),
      el('td', { class: 'i-title' }, el('div', { class: 'item-title', text: it.title }), draftTag(it),
        it.body ? el('div', { class: 'muted small u-body', text: it.body }) : null),
      el('td', { class: 'num', text: `${it.duration_s} 秒` }),
      el('td', {}, it.asset ? thumbFor(it.asset) : el('span', { class: 'muted', text: '—' })),
      el('td', {}, timeEl(it.updated_at || it.created_at)),
      el('td', { class: 'row-actions' }, writer ? [
        el('button', { type: 'button', class: 'small', dataset: { edit: it.id }, onclick: () => edit(it) }, '编辑'), ' ',
        confirmButton('删除', '确认删除？', { delete: it.id }, async () => {
          try {
            const r = await api('DELETE', `/items/${enc(it.id)}`);
            if (editing && editing.id === it.id) reset();
            m.saved(`已删除「${it.title}」。Deleted.`, r);
            lookups.at = 0;
            pg.tick();
          } catch (err) {
            if (!err.handled) m.fail(`删除失败 (delete failed)：${err.message}`);
          }
        })] : null))));
    if (!list.length) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: '还没有内容。No items yet.' })));
  });
}
