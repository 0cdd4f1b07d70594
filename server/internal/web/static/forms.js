// The admin page's one create/edit form and one list table, for the
// screens that create, edit and delete a noun (playlists, schedules and
// users; items keep their own form, which carries the live preview).
// Every such screen had its own copy of the same steps: a heading that
// says "new" or "edit", a save button that says Create or Save, a cancel
// button while editing, loading an object into the fields, POST or PUT,
// the messages beside the form and a refresh of the list. Here they are
// written once.
//
// editForm(spec) → form
//
//   spec.id        the noun's DOM name: the form is #<id>-form, its heading
//                  #<id>-form-title, its messages #<id>-error and #<id>-ok
//   spec.prefix    the control ids' prefix: #<prefix>-save, #<prefix>-cancel
//                  and #<prefix>-<field name> unless a field names its id
//   spec.titles    { create, edit }: heading texts (already translated)
//   spec.fields    in order, each one of
//                    { name, label, hint, type, required, ...attrs }
//                      type: 'text' (default), 'number', 'textarea',
//                      'password' (read as typed, never trimmed),
//                      'select' (options: [{value, text}] or a function
//                      returning them, refilled on reset/edit), 'checkbox';
//                      attrs: maxlength, min, max, step, rows, placeholder,
//                      autocomplete, spellcheck, autocapitalize; initial: the value for a new object
//                      (a select without one starts at its first option)
//                    { name, label, hint, control, get(), set(value, obj) }
//                      a control the screen builds itself (an ordered list,
//                      a target picker): get reads it, set fills it (value
//                      undefined for a new object); labelFor: the id of
//                      the element inside it that its label names
//                  either may add id, onlyNew (hidden while editing),
//                  lockedOnEdit (disabled while editing), wide (no label
//                  element: the control carries its own legend)
//   spec.body(values, editing)  optional: what to send, from the fields'
//                  values (default: the values as they are)
//   spec.check(body, editing, values)  optional: a local refusal, as
//                  text, or '' (values: the fields' values, for what a
//                  control reports that is not sent)
//   spec.save(body, editing)    the API call: POST for new, PUT for an edit
//                  (editing is the object being edited, or null)
//   spec.savedText(body, resp, editing)  optional: the success line
//                  (editing: the object that was edited, or null)
//   spec.idOf(obj) optional: the id shown in the heading while editing
//   spec.onSaved(resp, body)    optional: after a save (refresh the list)
//   spec.focus     optional: the field name focused on edit
//   spec.keepAfterCreate  optional: field names that keep their values
//                  after a create, for adding several alike in a row
//
//   form.element   the <form> (append it to the page)
//   form.messages  its formMessages (fail, done, saved, clear)
//   form.edit(obj) load obj into the fields and switch to editing it
//   form.reset()   back to a new, empty object
//   form.editing() the object being edited, or null
//   form.field(name) the element of a built-in field (for listeners)
//   form.deleteButton(obj, { name, remove }) a two-click delete button
//                  (data-delete=<id>) that runs remove(obj), resets the form
//                  if it was editing obj, and reports beside the form
//   form.editButton(obj) the row's edit button (data-edit=<id>)
//
// listTable(spec) → table
//
//   spec.id        the <table>'s id
//   spec.columns   [{ head, class, cell(row) → node, text or array }]
//   spec.key(row)  the row's id (data-id)
//   spec.rowClass(row), spec.rowData(row)  optional: class and data-*
//   spec.actions(row)  optional: the last cell's buttons
//   spec.empty     the text of an empty table
//
//   table.element  a .table-wrap holding the table
//   table.render(rows)  replace the body's rows
//
// Texts come from the catalogues (media.form.*, common.*); labels and
// headings are passed in already translated.

import { el, formMessages, confirmButton } from './kit.js';
import { t } from './i18n.js';

const ATTRS = ['maxlength', 'min', 'max', 'step', 'rows', 'placeholder', 'autocomplete', 'accept', 'spellcheck', 'autocapitalize'];

// buildField makes a built-in field's element and its get and set.
function buildField(f, id) {
  const props = { id, name: f.name };
  for (const a of ATTRS) if (f[a] !== undefined) props[a] = f[a];
  if (f.required) props.required = true;
  let n;
  if (f.type === 'textarea') n = el('textarea', props);
  else if (f.type === 'select') n = el('select', props);
  else if (f.type === 'checkbox') n = el('input', { ...props, type: 'checkbox' });
  else n = el('input', { ...props, type: f.type || 'text' });
  const fill = () => {
    if (f.type !== 'select') return;
    const keep = n.value;
    const opts = typeof f.options === 'function' ? f.options() : f.options || [];
    n.replaceChildren(...opts.map((o) => el('option', { value: o.value, text: o.text })));
    if (opts.some((o) => o.value === keep)) n.value = keep;
  };
  return {
    node: n,
    fill,
    get() {
      if (f.type === 'checkbox') return n.checked;
      if (f.type === 'number') return n.value === '' ? null : Number(n.value);
      return f.type === 'select' || f.type === 'password' ? n.value : n.value.trim();
    },
    set(v) {
      fill();
      if (f.type === 'checkbox') n.checked = !!v;
      else if (f.type === 'select' && (v === undefined || v === null)) n.selectedIndex = n.options.length ? 0 : -1;
      else n.value = v === undefined || v === null ? '' : String(v);
    },
  };
}

export function editForm(spec) {
  const m = formMessages(spec.id);
  let editing = null;
  const heading = el('h2', { id: `${spec.id}-form-title` });
  const saveBtn = el('button', { type: 'submit', class: 'primary', id: `${spec.prefix}-save` });
  const cancelBtn = el('button', { type: 'button', id: `${spec.prefix}-cancel`, onclick: () => reset() }, t('media.form.cancelEdit'));

  const fields = spec.fields.map((f) => {
    const id = f.id || `${spec.prefix}-${f.name}`;
    const built = f.control ? { node: f.control, fill() {}, get: f.get, set: f.set } : buildField(f, id);
    const lab = f.wide ? null : el('label', { for: f.control ? f.labelFor || null : id }, f.label || '', f.hint ? el('span', { class: 'hint', text: f.hint }) : null);
    // A checkbox reads best with its label beside it.
    const row = f.type === 'checkbox'
      ? el('div', { class: 'field-row' }, el('label', { class: 'inline', for: id }, built.node, ' ', f.label || ''),
        f.hint ? el('span', { class: 'hint', text: f.hint }) : null)
      : el('div', { class: 'field-row' }, lab, built.node);
    return { spec: f, ...built, row };
  });
  const byName = new Map(fields.map((f) => [f.spec.name, f]));

  const form = el('form', { id: `${spec.id}-form`, class: 'card form edit-form', method: 'post', novalidate: true, onsubmit: submit },
    heading, fields.map((f) => f.row),
    el('div', { class: 'form-actions' }, saveBtn, ' ', cancelBtn),
    m.error, m.ok);

  function setMode(obj) {
    editing = obj;
    const id = obj ? (spec.idOf ? spec.idOf(obj) : obj.id) : '';
    heading.replaceChildren(obj ? spec.titles.edit : spec.titles.create, ...(id ? [' ', el('code', { text: id })] : []));
    saveBtn.textContent = obj ? t('common.save') : t('common.create');
    cancelBtn.hidden = !obj;
    for (const f of fields) {
      f.row.hidden = !!(obj && f.spec.onlyNew);
      if (f.spec.lockedOnEdit && 'disabled' in f.node) f.node.disabled = !!obj;
    }
  }

  function reset(keep) {
    setMode(null);
    for (const f of fields) if (!(keep && keep.includes(f.spec.name))) f.set(f.spec.initial, null);
  }

  function edit(obj) {
    m.clear();
    setMode(obj);
    for (const f of fields) f.set(obj[f.spec.name], obj);
    form.scrollIntoView({ block: 'start' });
    const focus = byName.get(spec.focus) || fields.find((f) => !f.row.hidden && !f.node.disabled);
    if (focus && focus.node.focus) focus.node.focus();
  }

  async function submit(e) {
    e.preventDefault();
    m.clear();
    const values = {};
    for (const f of fields) {
      if (f.row.hidden) continue;
      const v = f.get();
      if (f.spec.required && (v === '' || v === null || v === undefined)) {
        m.fail(t('media.form.required', { field: f.spec.label || f.spec.name }));
        if (f.node.focus) f.node.focus();
        return;
      }
      values[f.spec.name] = v;
    }
    const body = spec.body ? spec.body(values, editing) : values;
    const problem = spec.check ? spec.check(body, editing, values) : '';
    if (problem) return m.fail(problem);
    saveBtn.disabled = true;
    try {
      const was = editing;
      const resp = await spec.save(body, was);
      reset(was ? null : spec.keepAfterCreate);
      m.saved(spec.savedText ? spec.savedText(body, resp, was) : t('media.form.saved'), resp);
      if (spec.onSaved) spec.onSaved(resp, body);
    } catch (err) {
      if (!err.handled) m.fail(t('media.form.saveFailed', { msg: err.message }));
    } finally {
      saveBtn.disabled = false;
    }
  }

  const api = {
    element: form,
    messages: m,
    edit,
    reset: () => reset(),
    editing: () => editing,
    field: (name) => (byName.get(name) || {}).node,
    // refill refreshes select options that come from a function (a list
    // that loads after the form was built), keeping what is chosen.
    refill() {
      for (const f of fields) f.fill();
    },
    editButton(obj) {
      return el('button', { type: 'button', class: 'small', dataset: { edit: obj.id }, onclick: () => edit(obj) }, t('common.edit'));
    },
    deleteButton(obj, { name, remove }) {
      return confirmButton(t('common.delete'), t('common.confirmDelete'), { delete: obj.id }, async () => {
        try {
          const resp = await remove(obj);
          if (editing && editing.id === obj.id) reset();
          m.saved(t('media.form.deleted', { name: name || obj.id }), resp);
          if (spec.onSaved) spec.onSaved(resp, null);
        } catch (err) {
          if (!err.handled) m.fail(t('media.form.deleteFailed', { msg: err.message }));
        }
      });
    },
  };
  reset();
  return api;
}

export function listTable(spec) {
  const tbody = el('tbody');
  const cols = spec.columns.concat(spec.actions ? [{ head: '', class: 'row-actions', cell: spec.actions }] : []);
  const table = el('table', { class: 'grid', id: spec.id },
    el('thead', {}, el('tr', {}, cols.map((c) => el('th', { class: c.class === 'num' ? 'num' : null, text: c.head || '' })))),
    tbody);
  return {
    element: el('div', { class: 'table-wrap' }, table),
    table,
    render(rows) {
      tbody.replaceChildren(...rows.map((r) => el('tr', {
        class: spec.rowClass ? spec.rowClass(r) : null,
        dataset: { id: spec.key ? spec.key(r) : r.id, ...(spec.rowData ? spec.rowData(r) : {}) },
      }, cols.map((c) => el('td', { class: c.class || null }, c.cell(r))))));
      if (!rows.length) tbody.append(el('tr', {}, el('td', { colspan: cols.length, class: 'muted', text: spec.empty || '' })));
    },
  };
}
