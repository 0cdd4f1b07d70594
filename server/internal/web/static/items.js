// items screen of the admin page: the list, the create/edit form with a
// live "does it fit" check while the editor types, and the screen preview
// (preview.js) of the item as the form holds it.

import {
  el, append, timeEl, api, enc, lookups, formMessages, confirmButton, refreshBar, kindBadge, thumbnails, can,
  myOpenChangeSet, overlayDrafts, draftTag,
} from './kit.js';
import { ITEM_KINDS, label, t } from './i18n.js';
import { screenPreview, fitCheck, warningList, assetMedia, fileMedia } from './preview.js';

const MEDIA_ACCEPT = 'image/png,image/jpeg,image/webp,image/gif,video/mp4,video/webm';
const PREVIEW_DEBOUNCE_MS = 400;

export default function itemsView(pg) {
  const m = formMessages('item');
  let editing = null; // the item being edited, or null for a new one
  let uploaded = null; // {file, sha}: a retry after a refused save does not upload again
  let mimes = new Map(); // asset sha → MIME, from GET /assets
  const thumbFor = thumbnails(pg, (sha) => mimes.get(sha));
  const writer = can('content.write'); // technicians and viewers get the list only
  const preview = screenPreview(pg);
  const fit = fitCheck(pg, { onAnswer: (a) => preview.suggest(a.layout) });
  const savedMedia = assetMedia(pg);
  const warnBox = el('div', { class: 'pv-warnings-slot' });
  let chosen = { file: null, media: null }; // the file picked in the form, shown before upload

  const heading = el('h2', { id: 'item-form-title' });
  const kindSel = el('select', { id: 'i-kind', name: 'kind', onchange: changed },
    ITEM_KINDS.map((k) => el('option', { value: k, text: label('kind', k) })));
  const titleIn = el('input', { id: 'i-title', name: 'title', required: true, maxlength: 200, autocomplete: 'off', oninput: changed });
  const bodyIn = el('textarea', { id: 'i-body', name: 'body', rows: 4, maxlength: 5000, oninput: changed });
  const durIn = el('input', { id: 'i-duration', name: 'duration_s', type: 'number', min: 1, max: 3600, step: 1, oninput: changed });
  const fileIn = el('input', { id: 'i-file', name: 'file', type: 'file', accept: MEDIA_ACCEPT, onchange: changed });
  const keepBox = el('div', { id: 'i-current-media', hidden: true });
  const removeMedia = el('input', { type: 'checkbox', id: 'i-remove-media', onchange: changed });
  const saveBtn = el('button', { type: 'submit', class: 'primary', id: 'i-save' });
  const cancelBtn = el('button', { type: 'button', id: 'i-cancel', onclick: () => reset() }, t('item.cancelEdit'));
  const tbody = el('tbody');

  // keptAsset is the saved asset the item keeps if saved now.
  const keptAsset = () => (editing && !removeMedia.checked ? editing.asset || '' : '');

  // changed runs on every keystroke: the fit check and the preview follow
  // the form after a short pause.
  let previewTimer = 0;
  function changed() {
    if (!writer) return;
    const file = fileIn.files && fileIn.files[0];
    if (file !== chosen.file) {
      if (chosen.media) pg.revoke(chosen.media.url);
      chosen = { file: file || null, media: file ? fileMedia(pg, file) : null };
    }
    const text = {
      title: titleIn.value, body: bodyIn.value, duration_s: Number(durIn.value) || 10,
      asset: keptAsset(), media: !!chosen.file, layout: preview.chosenLayout,
    };
    fit.check(text);
    clearTimeout(previewTimer);
    previewTimer = setTimeout(async () => {
      const it = { id: editing ? editing.id : 'new', kind: kindSel.value, title: titleIn.value.trim(), body: bodyIn.value, duration_s: text.duration_s };
      it.media = chosen.media || (await savedMedia(keptAsset())) || undefined;
      if (!pg.alive) return;
      preview.setItems(it.title ? [it] : []);
    }, PREVIEW_DEBOUNCE_MS);
  }
  // The layout picker changes the room for text: check again.
  preview.root.addEventListener('change', (e) => { if (e.target && e.target.id === 'pv-layout') changed(); });

  function reset() {
    editing = null;
    uploaded = null;
    heading.replaceChildren(t('item.heading.new'));
    saveBtn.replaceChildren(t('common.create'));
    cancelBtn.hidden = true;
    kindSel.value = 'notice';
    titleIn.value = '';
    bodyIn.value = '';
    durIn.value = '10';
    fileIn.value = '';
    keepBox.hidden = true;
    removeMedia.checked = false;
    changed();
  }

  function edit(it) {
    editing = it;
    uploaded = null;
    m.clear();
    warnBox.replaceChildren();
    heading.replaceChildren(t('item.heading.edit'), ' ', el('code', { text: it.id }));
    saveBtn.replaceChildren(t('common.save'));
    cancelBtn.hidden = false;
    kindSel.value = it.kind;
    titleIn.value = it.title || '';
    bodyIn.value = it.body || '';
    durIn.value = String(it.duration_s || 10);
    fileIn.value = '';
    removeMedia.checked = false;
    keepBox.hidden = !it.asset;
    if (it.asset) {
      keepBox.replaceChildren(el('span', { class: 'muted', text: t('item.currentMedia') }), ' ', thumbFor(it.asset),
        ' ', el('label', { class: 'inline' }, removeMedia, ' ', t('item.removeMedia')));
    }
    changed();
    form.scrollIntoView({ block: 'start' });
    titleIn.focus();
  }

  const form = el('form', { id: 'item-form', class: 'card form', method: 'post', novalidate: true, onsubmit: submit },
    heading,
    el('label', { for: 'i-kind' }, t('item.kind')), kindSel,
    el('label', { for: 'i-title' }, t('item.title')), titleIn,
    el('label', { for: 'i-body' }, t('item.body')), bodyIn,
    el('label', { for: 'i-duration' }, t('item.duration'),
      el('span', { class: 'hint', text: t('item.durationHint') })), durIn,
    el('label', { for: 'i-file' }, t('item.media'),
      el('span', { class: 'hint', text: t('item.mediaHint') })), fileIn,
    keepBox,
    fit.root,
    el('div', { class: 'form-actions' }, saveBtn, ' ', cancelBtn),
    m.error, m.ok, warnBox);

  async function submit(e) {
    e.preventDefault();
    m.clear();
    warnBox.replaceChildren();
    const title = titleIn.value.trim();
    if (!title) return m.fail(t('item.titleRequired'));
    const dur = Number(durIn.value || '10');
    if (!Number.isInteger(dur) || dur < 1 || dur > 3600) return m.fail(t('item.durationRange'));
    saveBtn.disabled = true;
    try {
      let asset = keptAsset();
      const file = fileIn.files && fileIn.files[0];
      if (file) {
        if (!uploaded || uploaded.file !== file) {
          m.done(t('item.uploading', { name: file.name }));
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
      m.saved(t('item.saved', { title }), it);
      // Saving is never refused for length; what the server expects on
      // screens stays in view until the next save.
      const w = warningList(it && it.warnings);
      if (w) warnBox.replaceChildren(w);
      lookups.at = 0;
      pg.tick();
    } catch (err) {
      if (!err.handled) m.fail(t('item.saveFailed', { msg: err.message }));
    } finally {
      saveBtn.disabled = false;
    }
  }

  append(pg.root, [
    el('div', { class: 'page-head' }, el('h1', { text: t('item.pageTitle') }), refreshBar(pg)),
    writer ? el('div', { class: 'pv-edit' }, form, preview.root) : null,
    el('section', { class: 'card' }, el('h2', { text: t('item.list') }),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'items' },
        el('thead', {}, el('tr', {}, el('th', { text: t('item.col.kind') }), el('th', { text: t('item.col.title') }),
          el('th', { class: 'num', text: t('item.col.duration') }), el('th', { text: t('item.col.media') }),
          el('th', { text: t('item.col.updated') }), el('th', {}, ''))),
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
      el('td', { class: 'num', text: t('item.seconds', { n: it.duration_s }) }),
      el('td', {}, it.asset ? thumbFor(it.asset) : el('span', { class: 'muted', text: '—' })),
      el('td', {}, timeEl(it.updated_at || it.created_at)),
      el('td', { class: 'row-actions' }, writer ? [
        el('button', { type: 'button', class: 'small', dataset: { edit: it.id }, onclick: () => edit(it) }, t('common.edit')), ' ',
        confirmButton(t('common.delete'), t('common.confirmDelete'), { delete: it.id }, async () => {
          try {
            const r = await api('DELETE', `/items/${enc(it.id)}`);
            if (editing && editing.id === it.id) reset();
            m.saved(t('item.deleted', { title: it.title }), r);
            lookups.at = 0;
            pg.tick();
          } catch (err) {
            if (!err.handled) m.fail(t('item.deleteFailed', { msg: err.message }));
          }
        })] : null))));
    if (!list.length) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: t('item.none') })));
  });
}
