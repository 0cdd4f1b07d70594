// Screens and groups of the admin page: the tree of streets (街道) and
// compounds (小区), which are groups with a parent, each with its screen
// count and health; creating, editing, moving and deleting groups; adding
// a screen (the pairing card); and acting on a selection of screens or a
// whole group at once (commands, moving). Reading needs fleet.read,
// changing fleet.write; a default playlist is content and goes through
// review (content.write).

import {
  STATES, el, append, api, enc, can, screenHref, stateBadge, timeEl, formMessages, confirmButton, loadLookups, lookups,
} from './kit.js';
import { t, has, label, locale, compareText, fmtNumber } from './i18n.js';
import { pairCard } from './pair.js';
import { PAGE_SIZE, screenPage, knowScreens, screenName, pager, searchBox } from './paging.js';

// COMMANDS are the remote commands a technician sends to many screens.
export const COMMANDS = ['identify', 'reload', 'resync', 'screenshot'];

const UNGROUPED = '-'; // the ?group= value of screens in no group

// refusal words an API refusal for this area: its own text for the codes
// it knows (scr.err.<code>, with the server's detail), else the kit's.
export function refusal(err) {
  const key = 'scr.err.' + err.code;
  return has(key) ? t(key, { detail: err.detail || '' }) : err.message;
}

// groupTree orders groups as a tree: each with its depth, parents first,
// names sorted the page language's way. A group whose parent is unknown
// (outside a person's scope) is a root.
export function groupTree(groups) {
  const ids = new Set(groups.map((g) => g.id));
  const kids = new Map();
  for (const g of groups) {
    const p = g.parent && ids.has(g.parent) ? g.parent : '';
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(g);
  }
  for (const list of kids.values()) list.sort((a, b) => compareText(a.name || a.id, b.name || b.id));
  const out = [];
  const seen = new Set();
  const walk = (p, depth) => {
    for (const g of kids.get(p) || []) {
      if (seen.has(g.id)) continue; // a cycle the server would refuse anyway
      seen.add(g.id);
      out.push({ ...g, depth, children: (kids.get(g.id) || []).length });
      walk(g.id, depth + 1);
    }
  };
  walk('', 0);
  return out;
}

// subtree is id and every group nested under it.
export function subtree(groups, id) {
  const set = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const g of groups) {
      if (g.parent && set.has(g.parent) && !set.has(g.id)) {
        set.add(g.id);
        grew = true;
      }
    }
  }
  return set;
}

// groupOptions are <option>s for a group select, indented by depth.
export function groupOptions(groups, noneText, skip = new Set()) {
  return [el('option', { value: '', text: noneText }),
    ...groupTree(groups).filter((g) => !skip.has(g.id)).map((g) => el('option', {
      value: g.id, text: '\u3000'.repeat(g.depth) + (g.name || g.id),
    }))];
}

// playlistOptions are <option>s for a default playlist select.
export function playlistOptions(pls, current) {
  const list = (pls || []).slice().sort((a, b) => compareText(a.name || a.id, b.name || b.id));
  const opts = [el('option', { value: '', text: t('scr.g.defaultNone') }),
    ...list.map((p) => el('option', { value: p.id, text: p.name || p.id }))];
  if (current && !list.some((p) => p.id === current)) opts.push(el('option', { value: current, text: current }));
  return opts;
}

// LAYOUTS are what a screen or group may choose; '' inherits from the
// groups above (full screen when none says).
export const LAYOUTS = ['', 'full', 'header', 'header_ticker'];

// layoutSelect is the layout picker of the screen and group forms.
export function layoutSelect(id) {
  return el('select', { id, name: 'layout' },
    LAYOUTS.map((l) => el('option', { value: l, text: l ? t('pv.layout.' + l) : t('scr.layoutInherit') })));
}

const plurals = new Intl.PluralRules(locale);

// tn is t for a count: key.one or key.other as the language says
// ("1 screen", "2 screens"; Chinese has one form).
export function tn(key, n, vars = {}) {
  const form = plurals.select(n) === 'one' ? '.one' : '.other';
  return t(key + form, { ...vars, n: fmtNumber(n) });
}

// knowGroups makes sure the page's lookups name every group in ids: a
// group made a moment ago (by someone else, or on another page) would
// otherwise show as its bare id until the next minute's reload.
export async function knowGroups(ids) {
  if (ids.some((g) => g && !lookups.groupNames.has(g))) await loadLookups(true);
}

// healthPills shows a count per state, the non-zero ones only.
function healthPills(counts) {
  const by = (counts && counts.by_state) || counts || {};
  return el('span', { class: 'health' }, STATES.filter((s) => by[s] > 0).map((s) =>
    el('span', { class: `hp hp-${s}`, title: t('state.' + s), dataset: { state: s }, text: fmtNumber(by[s]) })));
}

export default function screensView(pg, _arg, query) {
  const selected = query.get('group') || '';
  const write = can('fleet.write');
  const mayDefault = can('content.write');
  let groups = [];
  let playlists = [];
  let screens = []; // the page of screens shown
  let fleet = null;
  const picked = new Set(); // ids of the screens ticked, on any page
  const pickedScreens = new Map(); // id → the screen as listed, for moving it

  const choose = (id) => {
    location.hash = '#/screens' + (id ? '?group=' + enc(id) : '');
  };
  const groupName = (id) => {
    const g = groups.find((x) => x.id === id);
    return g ? g.name || g.id : id;
  };

  // ---- the tree --------------------------------------------------------

  const tree = el('ul', { class: 'tree', id: 'group-tree' });

  function node(id, name, counts, depth, extra) {
    const total = counts ? counts.total ?? STATES.reduce((n, s) => n + (counts[s] || 0), 0) : 0;
    return el('li', { class: 'tree-item' + (id === selected ? ' selected' : ''), dataset: { group: id, depth: String(depth) } },
      el('button', { type: 'button', class: 'tree-node depth-' + Math.min(depth, 4), 'aria-current': id === selected ? 'true' : null,
        onclick: () => choose(id) },
      el('span', { class: 'tree-name', text: name }),
      extra || null,
      el('span', { class: 'tree-count', title: t('scr.countTitle'), text: tn('scr.count', total) }),
      healthPills(counts)));
  }

  function renderTree() {
    const byGroup = new Map(((fleet && fleet.groups) || []).map((g) => [g.group, g]));
    const items = [node('', t('scr.all'), fleet ? { total: fleet.total, by_state: fleet.by_state } : null, 0)];
    for (const g of groupTree(groups)) {
      items.push(node(g.id, g.name || g.id, byGroup.get(g.id), g.depth + 1,
        g.children ? el('span', { class: 'muted small tree-sub', text: tn('scr.subCount', g.children) }) : null));
    }
    const ug = fleet && fleet.ungrouped;
    if (ug && STATES.some((s) => ug[s] > 0)) items.push(node(UNGROUPED, t('scr.ungrouped'), ug, 0));
    tree.replaceChildren(...items);
  }

  // ---- a group's form: new, or the selected one ------------------------

  function groupForm(prefix, g) {
    const msg = formMessages(prefix);
    const idIn = el('input', { id: `${prefix}-id`, name: 'id', maxlength: 64, autocomplete: 'off', spellcheck: 'false',
      pattern: '[A-Za-z0-9][A-Za-z0-9_-]*', placeholder: 'heping-3' });
    const nameIn = el('input', { id: `${prefix}-name`, name: 'name', maxlength: 200, autocomplete: 'off' });
    const parentSel = el('select', { id: `${prefix}-parent`, name: 'parent' });
    const tzIn = el('input', { id: `${prefix}-timezone`, name: 'timezone', autocomplete: 'off', placeholder: 'Asia/Shanghai' });
    const defSel = el('select', { id: `${prefix}-default`, name: 'default_playlist', disabled: !mayDefault });
    const layoutSel = layoutSelect(`${prefix}-layout`);
    const submit = el('button', { type: 'submit', class: 'primary', id: `${prefix}-submit`, text: t(g ? 'scr.g.save' : 'scr.g.create') });
    const row = (id, key, input, hint) => [el('label', { for: id }, t(key), hint ? el('span', { class: 'hint', text: t(hint) }) : null), input];

    function fill() {
      const skip = g ? subtree(groups, g.id) : new Set();
      const keepParent = g ? g.parent || '' : parentSel.value || (selected !== UNGROUPED ? selected : '');
      parentSel.replaceChildren(...groupOptions(groups, t('scr.g.parentNone'), skip));
      parentSel.value = keepParent;
      const keepDef = g ? g.default_playlist || '' : defSel.value;
      defSel.replaceChildren(...playlistOptions(playlists, keepDef));
      defSel.value = keepDef;
      if (g) {
        nameIn.value = g.name || '';
        tzIn.value = g.timezone || '';
        layoutSel.value = LAYOUTS.includes(g.layout || '') ? g.layout || '' : '';
      }
    }

    async function send(e) {
      e.preventDefault();
      msg.clear();
      const body = {
        id: g ? g.id : idIn.value.trim(),
        name: nameIn.value.trim(),
        parent: parentSel.value,
        timezone: tzIn.value.trim(),
        default_playlist: defSel.value,
        layout: layoutSel.value,
      };
      if (!body.id) return msg.fail(t('scr.g.needId'));
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(body.id)) return msg.fail(t('scr.g.badId'));
      if (!body.name) return msg.fail(t('scr.g.needName'));
      submit.disabled = true;
      try {
        const resp = await api(g ? 'PUT' : 'POST', g ? `/groups/${enc(g.id)}` : '/groups', body);
        msg.saved(t(g ? 'scr.g.saved' : 'scr.g.created', { name: body.name }), resp);
        if (!g) {
          idIn.value = '';
          nameIn.value = '';
          tzIn.value = '';
          layoutSel.value = '';
        }
        await loadLookups(true);
        pg.tick();
      } catch (err) {
        if (!err.handled) msg.fail(refusal(err));
      } finally {
        submit.disabled = false;
      }
    }

    const form = el('form', { id: `${prefix}-form`, class: 'form', novalidate: true, onsubmit: send },
      g ? null : row(`${prefix}-id`, 'scr.g.id', idIn, 'scr.g.idHint'),
      row(`${prefix}-name`, 'scr.g.name', nameIn, g ? null : 'scr.g.nameHint'),
      row(`${prefix}-parent`, 'scr.g.parent', parentSel, 'scr.g.parentHint'),
      row(`${prefix}-timezone`, 'scr.g.timezone', tzIn, 'scr.g.tzHint'),
      row(`${prefix}-default`, 'scr.g.default', defSel, mayDefault ? 'scr.g.defaultHint' : 'scr.g.defaultNoRight'),
      row(`${prefix}-layout`, 'scr.layout', layoutSel, 'scr.layoutHint'),
      el('div', { class: 'form-actions' }, submit),
      msg.error, msg.ok);
    return { form, fill, msg };
  }

  const newGroup = write ? groupForm('ng', null) : null;
  const newGroupCard = newGroup && el('details', { class: 'card', id: 'new-group-card' },
    el('summary', {}, el('h2', { class: 'inline-h', text: t('scr.newGroup') })), newGroup.form);

  // The selected group's panel: its form, delete and whole-group command.
  const groupPanel = el('section', { class: 'card', id: 'group-panel', hidden: true });
  let panelFor = null; // the group the panel was built for, to keep edits across refreshes
  let panelFill = null; // refills its form

  function renderPanel() {
    let g = groups.find((x) => x.id === selected);
    if (!g) {
      groupPanel.hidden = true;
      panelFor = null;
      return;
    }
    groupPanel.hidden = false;
    if (panelFor && panelFor.id === g.id) {
      // The same group: keep the form (and its messages) as it is,
      // refilled only when the group itself changed.
      if (panelFor.updated_at !== g.updated_at && panelFill) {
        Object.assign(panelFor, g);
        panelFill();
      }
      return;
    }
    panelFor = { ...g };
    panelFill = null;
    g = panelFor;
    const parts = [el('h2', {}, t('scr.g.panel', { name: g.name || g.id }), ' ', el('code', { class: 'muted small', text: g.id }))];
    if (g.parent) parts.push(el('p', { class: 'muted' }, t('scr.g.inside', { name: groupName(g.parent) })));
    if (write) {
      const edit = groupForm('eg', g);
      edit.fill();
      panelFill = edit.fill;
      const delMsg = formMessages('gdel');
      const del = confirmButton(t('scr.g.delete'), t('scr.g.confirmDelete'), { deleteGroup: g.id }, async () => {
        delMsg.clear();
        // The reasons the page can see, in its own words; the API
        // checks again (schedules too) and its refusal shows below.
        const kids = groups.filter((x) => x.parent === g.id).length;
        // With no sub-groups, the fleet's count of the group is its own.
        const counted = ((fleet && fleet.groups) || []).find((x) => x.group === g.id);
        const own = counted ? counted.total ?? STATES.reduce((n, s) => n + ((counted.by_state || {})[s] || 0), 0) : 0;
        if (kids) return delMsg.fail(tn('scr.g.hasChildren', kids));
        if (own) return delMsg.fail(tn('scr.g.hasScreens', own));
        try {
          await api('DELETE', `/groups/${enc(g.id)}`);
          await loadLookups(true);
          choose(g.parent || '');
        } catch (err) {
          if (!err.handled) delMsg.fail(refusal(err));
        }
      });
      parts.push(el('details', { class: 'sub-card', id: 'edit-group' }, el('summary', { text: t('scr.g.edit') }), edit.form),
        el('div', { class: 'form-actions' }, del), delMsg.error, delMsg.ok);
    }
    groupPanel.replaceChildren(...parts);
  }

  // ---- the screens of the selection: a page at a time -------------------

  const listTitle = el('h2', {});
  const tbody = el('tbody');
  const empty = el('p', { class: 'muted empty', hidden: true });
  const listMsg = el('p', { class: 'error', id: 'list-error', role: 'alert', hidden: true });
  const all = el('input', { type: 'checkbox', id: 'pick-all', 'aria-label': t('scr.selectAll'), onchange: () => {
    for (const s of screens) {
      if (all.checked) pick(s);
      else unpick(s.id);
    }
    renderList();
  } });
  const pickedLine = el('span', { class: 'muted', id: 'picked' });

  // The filters: a search (name or id), a state, a tag; the group is the
  // tree's selection. Any change goes back to the first page.
  const filters = { q: '', state: '', tag: '' };
  const refilter = () => {
    pages.reset();
    loadList();
  };
  const search = searchBox('scr-q', (v) => {
    filters.q = v;
    refilter();
  }, { placeholder: t('page.searchHint'), label: t('page.search') });
  const stateSel = el('select', { id: 'scr-state', 'aria-label': t('page.state'), onchange: () => {
    filters.state = stateSel.value;
    refilter();
  } }, el('option', { value: '', text: t('page.allStates') }), STATES.map((s) => el('option', { value: s, text: t('state.' + s) })));
  const tagBox = searchBox('scr-tag', (v) => {
    filters.tag = v;
    refilter();
  }, { placeholder: t('page.tagHint'), label: t('page.tag') });
  const clearBtn = el('button', { type: 'button', id: 'scr-clear', class: 'small', text: t('page.clear'), hidden: true, onclick: () => {
    search.clear();
    tagBox.clear();
    stateSel.value = '';
    Object.assign(filters, { q: '', state: '', tag: '' });
    refilter();
  } });
  const filtering = () => !!(filters.q || filters.state || filters.tag);
  const pages = pager('scr-pager', () => loadList());

  const pick = (s) => {
    picked.add(s.id);
    pickedScreens.set(s.id, s);
  };
  const unpick = (id) => {
    picked.delete(id);
    pickedScreens.delete(id);
  };

  // loadList fetches the page of the current cursor with the filters; a
  // later call wins over one still under way.
  let listSeq = 0;
  async function loadList() {
    const my = ++listSeq;
    const query = {
      limit: PAGE_SIZE, cursor: pages.cursor(), group: selected, state: filters.state,
      tags: filters.tag ? [filters.tag] : [], q: filters.q,
    };
    let page;
    try {
      page = await screenPage(query);
    } catch (err) {
      if (my !== listSeq || !pg.alive || err.handled) return;
      if (err.code === 'bad_cursor' && !pages.first()) {
        pages.reset(); // an old cursor: start again
        return loadList();
      }
      listMsg.textContent = refusal(err);
      listMsg.hidden = false;
      return;
    }
    if (my !== listSeq || !pg.alive) return;
    listMsg.hidden = true;
    if (!page.screens.length && !pages.first()) {
      // The page emptied (screens deleted or moved): back to the start.
      pages.reset();
      return loadList();
    }
    screens = page.screens;
    for (const s of screens) if (picked.has(s.id)) pickedScreens.set(s.id, s);
    pages.show(screens.length, page.total, page.next);
    renderList();
  }

  function renderList() {
    listTitle.textContent = selected ? t('scr.listOf', { name: selected === UNGROUPED ? t('scr.ungrouped') : groupName(selected) }) : t('scr.listAll');
    tbody.replaceChildren(...screens.map((s) => el('tr', { dataset: { screenId: s.id, state: s.state || '' } },
      write ? el('td', { class: 'pick' }, el('input', { type: 'checkbox', 'aria-label': s.name || s.id, checked: picked.has(s.id), dataset: { pick: s.id },
        onchange: (e) => {
          if (e.target.checked) pick(s);
          else unpick(s.id);
          updatePicked();
        } })) : null,
      el('td', { class: 'name', dataset: { label: t('scr.col.name') } }, el('a', { href: screenHref(s.id), class: 'screen-name', text: s.name || s.id }),
        el('div', { class: 'muted id', text: s.id })),
      el('td', { dataset: { label: t('scr.col.group') }, class: 's-group', text: s.group ? groupName(s.group) : '—' }),
      el('td', { dataset: { label: t('scr.col.state') } }, stateBadge(s.state)),
      el('td', { dataset: { label: t('scr.col.lastSeen') } }, timeEl(s.last_seen, t('common.never'))),
      el('td', { dataset: { label: t('scr.col.tags') }, text: (s.tags || []).join(', ') || '—' }),
      el('td', { dataset: { label: t('scr.col.orientation') }, text: s.orientation ? label('pair', s.orientation) : '—' }))));
    empty.hidden = screens.length > 0;
    empty.textContent = filtering() ? t('page.noMatch') : t('scr.none');
    clearBtn.hidden = !filtering();
    updatePicked();
  }

  function updatePicked() {
    all.checked = screens.length > 0 && screens.every((s) => picked.has(s.id));
    pickedLine.textContent = t('scr.selected', { n: fmtNumber(picked.size) });
  }

  // ---- bulk actions ----------------------------------------------------

  const results = el('div', { id: 'bulk-results', class: 'bulk-results', hidden: true });
  const cmdSel = el('select', { id: 'bulk-command' }, COMMANDS.map((c) => el('option', { value: c, text: label('cmd', c) })));
  const moveSel = el('select', { id: 'bulk-move-to' });
  const bulkMsg = formMessages('bulk');

  function showResults(title, rows) {
    const ok = rows.filter((r) => r.ok).length;
    results.hidden = false;
    results.replaceChildren(el('p', { class: ok === rows.length ? 'ok-text' : 'error', id: 'bulk-summary' },
      title, ' ', t('scr.res.summary', { ok: fmtNumber(ok), n: fmtNumber(rows.length) })),
    el('ul', { class: 'plain bulk-list' }, rows.map((r) => el('li', { dataset: { screen: r.id, ok: r.ok ? '1' : '0' } },
      el('a', { href: screenHref(r.id), text: r.name }), ' · ',
      el('span', { class: r.ok ? 'ok-text' : 'error', text: r.text })))));
  }

  const nameOf = (id) => {
    const s = pickedScreens.get(id);
    return s ? s.name || s.id : screenName(id);
  };

  // eachPicked runs one request per ticked screen, a few at a time, and
  // collects what happened to each.
  async function eachPicked(fn) {
    const ids = [...picked];
    const out = new Array(ids.length);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const i = next++;
        try {
          out[i] = { id: ids[i], name: nameOf(ids[i]), ok: true, text: await fn(ids[i]) };
        } catch (err) {
          if (err.handled) throw err;
          out[i] = { id: ids[i], name: nameOf(ids[i]), ok: false, text: t('scr.res.failed', { msg: refusal(err) }) };
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return out;
  }

  async function bulk(btn, work) {
    bulkMsg.clear();
    btn.disabled = true;
    try {
      await work();
    } catch (err) {
      if (!err.handled) bulkMsg.fail(refusal(err));
    } finally {
      btn.disabled = false;
    }
  }

  const sendPicked = el('button', { type: 'button', id: 'bulk-send', text: t('scr.bulk.send'), onclick: () => bulk(sendPicked, async () => {
    if (!picked.size) return bulkMsg.fail(t('scr.needSelection'));
    const type = cmdSel.value;
    const rows = await eachPicked(async (id) => {
      const cmd = await api('POST', `/screens/${enc(id)}/commands`, { type });
      return t('scr.res.sent', { status: label('cmdStatus', cmd.status) });
    });
    showResults(t('scr.res.cmdTitle', { cmd: label('cmd', type) }), rows);
  }) });

  const sendGroup = el('button', { type: 'button', id: 'bulk-send-group', onclick: () => bulk(sendGroup, async () => {
    const type = cmdSel.value;
    const res = await api('POST', `/groups/${enc(selected)}/commands`, { type });
    // The group's screens may be on no page shown: their names by id.
    await knowScreens([...(res.commands || []).map((c) => c.screen_id), ...(res.failed || []).map((f) => f.screen)]).catch(() => {});
    const rows = [
      ...(res.commands || []).map((c) => ({ id: c.screen_id, name: nameOf(c.screen_id), ok: true, text: t('scr.res.sent', { status: label('cmdStatus', c.status) }) })),
      ...(res.failed || []).map((f) => ({ id: f.screen, name: nameOf(f.screen), ok: false, text: t('scr.res.failed', { msg: f.error }) })),
    ];
    if (!rows.length) return bulkMsg.fail(t('scr.res.noScreens'));
    showResults(t('scr.res.groupTitle', { cmd: label('cmd', type), name: groupName(selected) }), rows);
  }) });

  const movePicked = el('button', { type: 'button', id: 'bulk-move', text: t('scr.bulk.move'), onclick: () => bulk(movePicked, async () => {
    if (!picked.size) return bulkMsg.fail(t('scr.needSelection'));
    const to = moveSel.value;
    const rows = await eachPicked(async (id) => {
      const s = pickedScreens.get(id) || await api('GET', `/screens/${enc(id)}`);
      // PUT replaces the screen: send what it has, with the new group.
      await api('PUT', `/screens/${enc(id)}`, {
        name: s.name, group: to, tags: s.tags || [], timezone: s.timezone || '',
        orientation: s.orientation || '', default_playlist: s.default_playlist || '',
      });
      return t('scr.res.moved', { name: to ? groupName(to) : t('scr.ungrouped') });
    });
    showResults(t('scr.res.moveTitle', { name: to ? groupName(to) : t('scr.ungrouped') }), rows);
    picked.clear();
    pickedScreens.clear();
    pg.tick();
  }) });

  const bulkCard = write && el('section', { class: 'card bulk', id: 'bulk' },
    el('h2', { text: t('scr.bulk.title') }),
    el('div', { class: 'bulk-row' }, pickedLine),
    el('div', { class: 'bulk-row' },
      el('label', { for: 'bulk-command', text: t('scr.bulk.command') }), cmdSel, sendPicked, sendGroup),
    el('div', { class: 'bulk-row' },
      el('label', { for: 'bulk-move-to', text: t('scr.bulk.moveTo') }), moveSel, movePicked),
    bulkMsg.error, bulkMsg.ok, results);

  // ---- layout ----------------------------------------------------------

  append(pg.root, [
    el('div', { class: 'page-head' },
      el('h1', { text: t('scr.title') }),
      el('div', { class: 'toolbar' }, el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick(), text: t('common.refresh') }))),
    el('div', { class: 'screens-layout' },
      el('aside', { class: 'screens-side' },
        el('section', { class: 'card', id: 'groups-card' }, el('h2', { text: t('scr.groups') }), tree),
        newGroupCard),
      el('div', { class: 'screens-main' },
        groupPanel,
        pairCard(pg, () => ({ group: selected !== UNGROUPED ? selected : '' })),
        el('section', { class: 'card', id: 'screens-card' }, listTitle,
          el('div', { class: 'list-filters', id: 'screen-filters' },
            el('label', { class: 'filter' }, t('page.search'), ' ', search.node),
            el('label', { class: 'filter' }, t('page.state'), ' ', stateSel),
            el('label', { class: 'filter' }, t('page.tag'), ' ', tagBox.node),
            clearBtn),
          listMsg,
          el('div', { class: 'table-wrap' }, el('table', { class: 'grid stack', id: 'group-screens' },
            el('thead', {}, el('tr', {},
              write ? el('th', { class: 'pick' }, all) : null,
              el('th', { text: t('scr.col.name') }), el('th', { text: t('scr.col.group') }), el('th', { text: t('scr.col.state') }),
              el('th', { text: t('scr.col.lastSeen') }), el('th', { text: t('scr.col.tags') }), el('th', { text: t('scr.col.orientation') }))),
            tbody)),
          empty, pages.node),
        bulkCard)),
  ]);

  pg.poll(async () => {
    const [gs, counts, pls] = await Promise.all([
      api('GET', '/groups'),
      api('GET', '/fleet'),
      can('content.read') ? api('GET', '/playlists').catch(() => []) : [],
      loadList(),
    ]);
    if (!pg.alive) return;
    groups = gs || [];
    fleet = counts;
    playlists = pls || [];
    if (selected && selected !== UNGROUPED && !groups.some((g) => g.id === selected)) {
      choose(''); // deleted, or outside the person's groups
      return;
    }
    renderTree();
    renderPanel();
    renderList();
    if (newGroup) newGroup.fill();
    const keep = moveSel.value;
    moveSel.replaceChildren(...groupOptions(groups, t('scr.ungrouped')));
    moveSel.value = keep;
    sendGroup.hidden = !selected || selected === UNGROUPED;
    sendGroup.textContent = t('scr.bulk.sendGroup', { name: selected && selected !== UNGROUPED ? groupName(selected) : '' });
  }, () => 30000);
}
