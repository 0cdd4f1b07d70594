// Targets: the all / groups / screens picker of the forms that address
// screens (schedules, safe mode), and a target in words. Screens are
// found by searching (paging.js): a district has thousands.

import { $, el, lookups } from './kit.js';
import { t } from './i18n.js';
import { screenChoices, screenName } from './paging.js';

// targetChoices is the all / groups / screens picker shared by forms
// that address screens. refresh(groups) rebuilds the group boxes and
// reloads the screens matching the picker's search, keeping what is
// ticked; set(tg) shows a saved Target for editing; value() returns a
// Target or the reason, in the page's language, it is incomplete.
export function targetChoices(root, prefix) {
  const groupBox = el('div', { class: 'choices', id: `${prefix}-groups`, hidden: true });
  const screens = screenChoices(`${prefix}-screens`, 'screens');
  const screenBox = screens.node;
  const name = `${prefix}-target`;
  // The latest group list, and ids a set() target named that it may not
  // offer (a deleted group): those stay as boxes marked missing, so
  // saving an edit does not silently drop them. (screenChoices does the
  // same for screens.)
  const lists = new Map([[groupBox, []]]);
  const pinned = new Map([[groupBox, new Set()]]);
  const kind = () => ($(`input[name="${name}"]:checked`, root) || { value: 'all' }).value;
  const show = () => {
    groupBox.hidden = kind() !== 'groups';
    screenBox.hidden = kind() !== 'screens';
  };
  const radio = (value, key, checked) => el('label', { class: 'inline' },
    el('input', { type: 'radio', name, value, checked, onchange: show }), ' ', t(key));
  function boxes(box, list, field, checked) {
    checked = checked || new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
    lists.set(box, list);
    const known = new Set(list.map((x) => x.id));
    const missing = [...pinned.get(box)].filter((id) => !known.has(id)).map((id) => ({ id, missing: true }));
    box.replaceChildren(...list.concat(missing).map((x) => el('label', { class: 'inline choice' },
      el('input', { type: 'checkbox', name: field, value: x.id, checked: checked.has(x.id) }), ' ',
      x.missing ? el('span', { class: 'error', text: t('tgt.missing') }) : x.name || x.id,
      el('small', { class: 'muted', text: ` ${x.id}` }))));
    if (!list.length && !missing.length) box.append(el('span', { class: 'muted', text: t('common.none') }));
  }
  const node = el('fieldset', {}, el('legend', {}, t('tgt.legend')),
    radio('all', 'tgt.all', true), radio('groups', 'tgt.groups', false),
    radio('screens', 'tgt.screens', false), groupBox, screenBox);
  return {
    node,
    refresh(groups) {
      boxes(groupBox, groups, 'groups');
      show();
      return screens.refresh();
    },
    // set shows tg; null means a fresh form (all screens, nothing ticked).
    // A target mixing kinds shows groups first, and a tags-only one no
    // radio at all: the caller decides what to do about what the picker
    // cannot show (see representable).
    set(tg) {
      tg = tg || { all: true };
      const groups = tg.all ? [] : tg.groups || [];
      const ids = tg.all ? [] : tg.screens || [];
      const k = tg.all ? 'all' : groups.length ? 'groups' : ids.length ? 'screens' : '';
      for (const r of node.querySelectorAll(`input[name="${name}"]`)) r.checked = r.value === k;
      pinned.set(groupBox, new Set(groups));
      boxes(groupBox, lists.get(groupBox), 'groups', new Set(groups));
      screens.set(ids);
      show();
    },
    value() {
      const k = kind();
      if (k === 'all') return { target: { all: true } };
      const ids = k === 'groups' ? [...groupBox.querySelectorAll('input:checked')].map((i) => i.value) : screens.value();
      if (!ids.length) return { problem: t(k === 'groups' ? 'tgt.needGroup' : 'tgt.needScreen') };
      return { target: { [k]: ids } };
    },
  };
}

// representable reports whether targetChoices can show tg whole: one of
// all, groups or screens, and no tags (the API takes tags; the form
// offers none).
export function representable(tg) {
  if (!tg) return true;
  const kinds = [tg.all, tg.groups && tg.groups.length, tg.screens && tg.screens.length].filter(Boolean).length;
  return kinds <= 1 && !(tg.tags && tg.tags.length);
}

// listText joins names the way the page's language lists them.
export const listText = (names) => names.join(t('tgt.listSep'));

// targetSummary is a Target in words: "all screens", or its groups, tags
// and screens by name.
export function targetSummary(tg, screenNames) {
  if (!tg) return '—';
  if (tg.all) return t('tgt.allScreens');
  const parts = [];
  if (tg.groups && tg.groups.length) parts.push(t('tgt.groupsAre', { list: listText(tg.groups.map((g) => lookups.groupNames.get(g) || g)) }));
  if (tg.tags && tg.tags.length) parts.push(t('tgt.tagsAre', { list: listText(tg.tags) }));
  if (tg.screens && tg.screens.length) parts.push(t('tgt.screensAre', { list: listText(tg.screens.map((s) => (screenNames && screenNames.get(s)) || screenName(s))) }));
  return parts.join(t('tgt.partSep')) || '—';
}
