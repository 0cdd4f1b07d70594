// Targets: the all / groups / screens picker of the forms that address
// screens (schedules, safe mode), and a target in words.

import { $, el, bi, lookups } from './kit.js';

// targetChoices is the all / groups / screens picker shared by forms
// that address screens. refresh rebuilds the boxes and keeps what is
// ticked; set(t) shows a saved Target for editing; value() returns a
// Target or a Chinese reason it is incomplete.
export function targetChoices(root, prefix) {
  const groupBox = el('div', { class: 'choices', id: `${prefix}-groups`, hidden: true });
  const screenBox = el('div', { class: 'choices', id: `${prefix}-screens`, hidden: true });
  const name = `${prefix}-target`;
  // The latest lists, and ids a set() target named that the lists may
  // not offer (a deleted group or screen): those stay as boxes marked
  // missing, so saving an edit does not silently drop them.
  const lists = new Map([[groupBox, []], [screenBox, []]]);
  const pinned = new Map([[groupBox, new Set()], [screenBox, new Set()]]);
  const kind = () => ($(`input[name="${name}"]:checked`, root) || { value: 'all' }).value;
  const show = () => {
    groupBox.hidden = kind() !== 'groups';
    screenBox.hidden = kind() !== 'screens';
  };
  const radio = (value, zh, en, checked) => el('label', { class: 'inline' },
    el('input', { type: 'radio', name, value, checked, onchange: show }), ' ', bi(zh, en));
  function boxes(box, list, field, checked) {
    checked = checked || new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
    lists.set(box, list);
    const known = new Set(list.map((x) => x.id));
    const missing = [...pinned.get(box)].filter((id) => !known.has(id)).map((id) => ({ id, missing: true }));
    box.replaceChildren(...list.concat(missing).map((x) => el('label', { class: 'inline choice' },
      el('input', { type: 'checkbox', name: field, value: x.id, checked: checked.has(x.id) }), ' ',
      x.missing ? el('span', { class: 'error', text: '已不存在 missing' }) : x.name || x.id,
      el('small', { class: 'muted', text: ` ${x.id}` }))));
    if (!list.length && !missing.length) box.append(el('span', { class: 'muted', text: '（无）' }));
  }
  const node = el('fieldset', {}, el('legend', {}, bi('目标屏幕', 'Target')),
    radio('all', '全部屏幕', 'all screens', true), radio('groups', '按分组', 'groups', false),
    radio('screens', '指定屏幕', 'screens', false), groupBox, screenBox);
  return {
    node,
    refresh(groups, screens) {
      boxes(groupBox, groups, 'groups');
      boxes(screenBox, screens, 'screens');
      show();
    },
    // set shows t; null means a fresh form (all screens, nothing ticked).
    // A target mixing kinds shows groups first, and a tags-only one no
    // radio at all: the caller decides what to do about what the picker
    // cannot show (see representable).
    set(t) {
      t = t || { all: true };
      const groups = t.all ? [] : t.groups || [];
      const screens = t.all ? [] : t.screens || [];
      const k = t.all ? 'all' : groups.length ? 'groups' : screens.length ? 'screens' : '';
      for (const r of node.querySelectorAll(`input[name="${name}"]`)) r.checked = r.value === k;
      pinned.set(groupBox, new Set(groups));
      pinned.set(screenBox, new Set(screens));
      boxes(groupBox, lists.get(groupBox), 'groups', new Set(groups));
      boxes(screenBox, lists.get(screenBox), 'screens', new Set(screens));
      show();
    },
    value() {
      const k = kind();
      if (k === 'all') return { target: { all: true } };
      const ids = [...(k === 'groups' ? groupBox : screenBox).querySelectorAll('input:checked')].map((i) => i.value);
      if (!ids.length) return { problem: k === 'groups' ? '请至少选择一个分组。' : '请至少选择一块屏幕。' };
      return { target: { [k]: ids } };
    },
  };
}

// representable reports whether targetChoices can show t whole: one of
// all, groups or screens, and no tags (the API takes tags; the form
// offers none).
export function representable(t) {
  if (!t) return true;
  const kinds = [t.all, t.groups && t.groups.length, t.screens && t.screens.length].filter(Boolean).length;
  return kinds <= 1 && !(t.tags && t.tags.length);
}

export function targetSummary(t, screenNames) {
  if (!t) return '—';
  if (t.all) return '全部屏幕';
  const parts = [];
  if (t.groups && t.groups.length) parts.push('分组：' + t.groups.map((g) => lookups.groupNames.get(g) || g).join('、'));
  if (t.tags && t.tags.length) parts.push('标签：' + t.tags.join('、'));
  if (t.screens && t.screens.length) parts.push('屏幕：' + t.screens.map((s) => screenNames.get(s) || s).join('、'));
  return parts.join('；') || '—';
}
