// A screen's detail page: status, what should play, the next 24 hours,
// commands, the latest screenshot, state history, and its settings (name,
// group, tags, orientation, time zone, default playlist, token, delete).

import {
  REFRESH_MS, FAST_MS, FAST_FOR_MS, $, el, append, clockFormat, absTime, timeEl, fmtBytes, fmtOffset, fmtDuration, stateBadge, statusBadge, reasonsList, versionCell, api, enc, loadLookups, can, itemLabel, groupLabel, shortTime,
  formMessages, confirmButton, lookups,
} from './kit.js';
import { t, label } from './i18n.js';
import { COMMANDS, refusal, groupOptions, playlistOptions, knowGroups, layoutSelect, LAYOUTS } from './screens.js';
import { tokenBox } from './pair.js';

// screenSettings is the one edit form of a screen: name, group, tags,
// orientation, time zone and default playlist (content: it goes through
// review, and the answer names the change set), a new token (shown once
// with the player's command line) and delete. show(s) fills it from the
// screen as the API has it, but not over what someone is typing.
function screenSettings(pg, id) {
  const write = can('fleet.write');
  const mayDefault = can('content.write');
  const msg = formMessages('ss');
  const nameIn = el('input', { id: 'ss-name', name: 'name', maxlength: 200, autocomplete: 'off' });
  const groupSel = el('select', { id: 'ss-group', name: 'group' });
  const tagsIn = el('input', { id: 'ss-tags', name: 'tags', autocomplete: 'off', placeholder: t('pair.tagsHint') });
  const orientSel = el('select', { id: 'ss-orientation', name: 'orientation' },
    el('option', { value: '', text: t('pair.orientationUnset') }),
    el('option', { value: 'landscape', text: t('pair.landscape') }),
    el('option', { value: 'portrait', text: t('pair.portrait') }));
  const tzIn = el('input', { id: 'ss-timezone', name: 'timezone', autocomplete: 'off', placeholder: 'Asia/Shanghai' });
  const defSel = el('select', { id: 'ss-default', name: 'default_playlist', disabled: !mayDefault });
  const layoutSel = layoutSelect('ss-layout');
  const layoutNow = el('span', { class: 'hint', id: 'ss-layout-now' });
  const submit = el('button', { type: 'submit', class: 'primary', id: 'ss-submit', text: t('scr.set.save') });
  const row = (rid, key, input, hint) => [el('label', { for: rid }, t(key), hint ? el('span', { class: 'hint', text: t(hint) }) : null), input];
  let shown = null; // the screen the form was last filled from
  let dirty = false;

  const form = el('form', { id: 'ss-form', class: 'form', novalidate: true, onsubmit: save, oninput: () => { dirty = true; } },
    row('ss-name', 'scr.set.name', nameIn),
    row('ss-group', 'scr.set.group', groupSel),
    row('ss-tags', 'scr.set.tags', tagsIn),
    row('ss-orientation', 'scr.set.orientation', orientSel),
    row('ss-timezone', 'scr.set.timezone', tzIn, 'pair.timezoneHint'),
    row('ss-default', 'scr.set.default', defSel, mayDefault ? 'scr.g.defaultHint' : 'scr.g.defaultNoRight'),
    row('ss-layout', 'scr.layout', layoutSel, 'scr.layoutHint'), layoutNow,
    el('div', { class: 'form-actions' }, submit), msg.error, msg.ok);

  const tokenMsg = formMessages('ss-token');
  const tokenOut = el('div', { id: 'rotate-token-box' });
  const rotate = confirmButton(t('scr.set.rotate'), t('scr.set.rotateConfirm'), { rotate: id }, async () => {
    tokenMsg.clear();
    tokenOut.replaceChildren();
    try {
      const r = await api('POST', `/screens/${enc(id)}/token`);
      tokenMsg.done(t('scr.set.rotated'));
      tokenOut.replaceChildren(tokenBox(r.token, r.server_key, 'rotate'));
    } catch (err) {
      if (!err.handled) tokenMsg.fail(refusal(err));
    }
  });
  rotate.className = 'small';
  const delMsg = formMessages('ss-delete');
  const del = confirmButton(t('scr.set.delete'), t('scr.set.deleteConfirm'), { deleteScreen: id }, async () => {
    delMsg.clear();
    try {
      await api('DELETE', `/screens/${enc(id)}`);
      location.hash = '#/screens';
    } catch (err) {
      if (!err.handled) delMsg.fail(refusal(err));
    }
  });

  async function save(e) {
    e.preventDefault();
    msg.clear();
    const body = {
      name: nameIn.value.trim(),
      group: groupSel.value,
      tags: tagsIn.value.split(/[,\uff0c\u3001]/).map((x) => x.trim()).filter(Boolean),
      orientation: orientSel.value,
      timezone: tzIn.value.trim(),
      default_playlist: defSel.value,
      layout: layoutSel.value,
    };
    if (!body.name) return msg.fail(t('pair.needName'));
    submit.disabled = true;
    try {
      const resp = await api('PUT', `/screens/${enc(id)}`, body);
      dirty = false;
      shown = null; // fill again from the answer's next refresh
      msg.saved(t('scr.set.saved'), resp);
      pg.tick();
    } catch (err) {
      if (!err.handled) msg.fail(refusal(err));
    } finally {
      submit.disabled = false;
    }
  }

  const node = write ? el('section', { class: 'card', id: 'screen-settings' },
    el('h2', { text: t('scr.set.title') }), form,
    el('h3', { text: t('scr.set.token') }), el('p', { class: 'muted small', text: t('scr.set.rotateHint') }),
    el('div', { class: 'form-actions' }, rotate), tokenMsg.error, tokenMsg.ok, tokenOut,
    el('h3', { text: t('scr.set.danger') }), el('p', { class: 'muted small', text: t('scr.set.deleteHint') }),
    el('div', { class: 'form-actions' }, del), delMsg.error, delMsg.ok) : null;

  function show(s, playlists) {
    if (!write) return;
    const keepGroup = dirty ? groupSel.value : s.group || '';
    groupSel.replaceChildren(...groupOptions(lookups.groups, t('pair.noGroup')));
    if (s.group && !lookups.groupNames.has(s.group)) groupSel.append(el('option', { value: s.group, text: s.group }));
    groupSel.value = keepGroup;
    const keepDef = dirty ? defSel.value : s.default_playlist || '';
    defSel.replaceChildren(...playlistOptions(playlists, keepDef));
    defSel.value = keepDef;
    layoutNow.textContent = s.layout_effective ? t('scr.layoutNow', { layout: t('pv.layout.' + s.layout_effective) }) : '';
    if (dirty || (shown && shown.updated_at === s.updated_at)) return;
    shown = s;
    nameIn.value = s.name || '';
    tagsIn.value = (s.tags || []).join(', ');
    orientSel.value = s.orientation || '';
    tzIn.value = s.timezone || '';
    layoutSel.value = LAYOUTS.includes(s.layout || '') ? s.layout || '' : '';
  }

  return { node, show };
}

export default function screenView(pg, id) {
  if (!id) {
    location.hash = '#/fleet';
    return;
  }
  let fastUntil = 0;
  let pending = false;
  let shotKey = ''; // Last-Modified of the screenshot on show
  let doneShots = null; // ids of finished screenshot commands seen so far
  let shotURL = ''; // the blob: URL on show, released when replaced
  let lastSent = null; // the command sent from this page, to report its outcome

  const title = el('h1', {}, el('span', { class: 'muted', text: t('scr.d.title') + ' ' }), el('span', { id: 'screen-name', text: id }));
  const badge = el('span', { id: 'screen-state' });
  const actionMsg = el('p', { id: 'action-msg', class: 'msg', role: 'status', hidden: true });
  const statusBox = el('dl', { class: 'kv', id: 'status' });
  const nowBox = el('div', { id: 'now' });
  const shotBox = el('div', { id: 'screenshot', class: 'shot' }, el('p', { class: 'muted', text: t('common.loading') }));
  const timelineBox = el('div', { id: 'timeline' }, el('p', { class: 'muted', text: t('common.loading') }));
  let timelineAt = 0; // when the preview was last fetched; it changes only when content does
  const settings = screenSettings(pg, id);
  const groupCrumb = el('a', { href: '#/screens', id: 'group-crumb', text: t('scr.title') });
  let playlists = null; // for the default playlist choice, fetched once
  const cmdBody = el('tbody');
  const histBody = el('tbody');

  async function send(type) {
    actionMsg.hidden = false;
    actionMsg.className = 'msg';
    actionMsg.textContent = t('scr.d.sending', { cmd: label('cmd', type) });
    try {
      const cmd = await api('POST', `/screens/${enc(id)}/commands`, { type });
      actionMsg.textContent = t('scr.d.sent', { cmd: label('cmd', type), status: label('cmdStatus', cmd.status) });
      lastSent = cmd;
      fastUntil = Date.now() + FAST_FOR_MS;
      pg.tick();
    } catch (err) {
      if (err.handled) return;
      actionMsg.className = 'msg error';
      actionMsg.textContent = t('scr.d.sendFailed', { msg: refusal(err) });
    }
  }

  append(pg.root, [
    el('p', { class: 'crumbs' }, el('a', { href: '#/fleet' }, '← ', t('fleet.title')), ' · ', groupCrumb),
    el('div', { class: 'page-head' }, el('div', { class: 'title-row' }, title, badge),
      el('div', { class: 'toolbar' },
        el('button', { type: 'button', id: 'refresh', onclick: () => {
          shotKey = '';
          timelineAt = 0;
          pg.tick();
        }, text: t('common.refresh') }))),
    can('fleet.write') && el('div', { class: 'actions card' },
      el('h2', { text: t('scr.d.commands') }),
      el('div', { class: 'buttons' }, COMMANDS.map((c) => el('button', {
        type: 'button', class: 'action', dataset: { command: c }, title: t('scr.d.hint.' + c), onclick: () => send(c),
      }, label('cmd', c)))),
      actionMsg),
    el('div', { class: 'columns' },
      el('section', { class: 'card' }, el('h2', { text: t('scr.d.status') }), statusBox),
      el('section', { class: 'card' }, el('h2', { text: t('scr.d.now') }), nowBox)),
    el('section', { class: 'card' }, el('h2', {}, t('scr.d.timeline'),
      el('span', { class: 'hint', text: t('scr.d.timelineHint') })), timelineBox),
    el('div', { class: 'columns' },
      el('section', { class: 'card' }, el('h2', { text: t('scr.d.recent') }),
        el('div', { class: 'table-wrap' }, el('table', { class: 'grid stack', id: 'commands' },
          el('thead', {}, el('tr', {}, el('th', { text: t('scr.d.c.command') }), el('th', { text: t('scr.d.c.status') }),
            el('th', { text: t('scr.d.c.sent') }), el('th', { text: t('scr.d.c.finished') }), el('th', { text: t('scr.d.c.result') }))),
          cmdBody))),
      el('section', { class: 'card' }, el('h2', { text: t('scr.d.shot') }), shotBox)),
    el('section', { class: 'card' }, el('h2', { text: t('scr.d.history') }),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid stack', id: 'history' },
        el('thead', {}, el('tr', {}, el('th', { text: t('scr.d.h.time') }), el('th', { text: t('scr.d.h.change') }), el('th', { text: t('scr.d.h.reasons') }))),
        histBody))),
    settings.node,
  ]);

  function kv(key, value) {
    return [el('dt', { text: t('scr.d.k.' + key) }), el('dd', {}, value)];
  }

  function renderStatus(s) {
    $('#screen-name', pg.root).textContent = s.name || s.id;
    groupCrumb.href = '#/screens' + (s.group ? '?group=' + enc(s.group) : '');
    groupCrumb.textContent = s.group ? lookups.groupNames.get(s.group) || s.group : t('scr.title');
    badge.replaceChildren(stateBadge(s.state));
    const tags = Array.isArray(s.tags) && s.tags.length ? s.tags.join(t('scr.d.tagSep')) : '—';
    statusBox.replaceChildren(...[
      kv('id', el('code', { text: s.id })),
      kv('state', [stateBadge(s.state), ' ', s.state_since ? [t('scr.d.since'), ' ', timeEl(s.state_since)] : '', reasonsList(s.state_reasons)]),
      kv('connected', s.online ? t('scr.d.connected') : t('scr.d.notConnected')),
      kv('lastSeen', timeEl(s.last_seen, t('common.never'))),
      kv('current', itemLabel(s.current_item)),
      kv('version', [versionCell(s.applied_version, s.published_version, s.up_to_date),
        s.up_to_date ? '' : el('span', { class: 'warn', text: ' ' + t('scr.d.behind') })]),
      kv('group', groupLabel(s.group)),
      kv('tags', tags),
      kv('orientation', s.orientation ? label('pair', s.orientation) : '—'),
      kv('timezone', s.timezone || t('scr.d.tzDefault')),
      kv('page', s.page_alive ? t('scr.d.pageAlive') : el('span', { class: 'warn', text: t('scr.d.pageDead') })),
      kv('cache', fmtBytes(s.cache_bytes)),
      kv('disk', s.disk_free_bytes ? fmtBytes(s.disk_free_bytes) : '—'),
      kv('offset', fmtOffset(s.clock_offset_ms)),
      kv('uptime', fmtDuration(s.uptime_s)),
      kv('player', s.player_version || '—'),
      s.last_sync_error ? kv('syncError', el('span', { class: 'error', text: s.last_sync_error })) : null,
      s.download_failures ? kv('downloadFailures', String(s.download_failures)) : null,
    ].flat(Infinity).filter(Boolean));
  }

  function renderNow(now, err) {
    if (err) {
      nowBox.replaceChildren(el('p', { class: 'muted', text: err.message }));
      return;
    }
    const parts = [];
    parts.push(el('p', { class: 'muted', text: t('scr.d.nowAt', { time: absTime(now.at), tz: now.timezone || t('scr.d.tzDefault') }) }));
    if (now.online) {
      parts.push(el('p', {}, now.matches
        ? el('span', { class: 'badge ok', id: 'now-match', dataset: { match: 'yes' }, text: t('scr.d.matches') })
        : el('span', { class: 'badge bad', id: 'now-match', dataset: { match: 'no' }, text: t('scr.d.mismatch') }),
      ' ', t('scr.d.reports'), ' ', itemLabel(now.current_item)));
    } else {
      parts.push(el('p', { class: 'muted', text: t('scr.d.cannotCompare') }));
    }
    const urgent = now.urgent || [];
    if (urgent.length) {
      parts.push(el('h3', { text: t('scr.d.urgent') }),
        el('ul', { class: 'plain' }, urgent.map((u) => el('li', {}, el('span', { class: 'tag', text: t('urgent.tag') }), ' ', u.title,
          el('span', { class: 'muted', text: ' ' + t('scr.d.until', { time: absTime(u.expires_at) }) })))));
    }
    const res = now.resolution || {};
    const entries = res.entries || [];
    if (entries.length) {
      parts.push(el('h3', { text: res.default ? t('scr.d.defaultPlaylist') : t('scr.d.rotation', { p: res.priority }) }),
        el('ol', { class: 'plain rotation' }, entries.map((e) => {
          const it = e.item || {};
          return el('li', { class: it.id === now.current_item ? 'playing' : '' }, it.title || it.id,
            el('span', { class: 'muted', text: ` · ${label('kind', it.kind)} · ${t('dur.s', { s: it.duration_s || '?' })}` }));
        })));
    } else if (!urgent.length) {
      parts.push(el('p', { class: 'muted', text: t('scr.d.nothing') }));
    }
    if (res.until) parts.push(el('p', { class: 'muted', text: t('scr.d.nextChange', { time: absTime(res.until) }) }));
    nowBox.replaceChildren(...parts);
  }

  function renderCommands(cmds) {
    const td = (key, props, ...kids) => el('td', { ...props, dataset: { label: t(key) } }, ...kids);
    cmdBody.replaceChildren(...cmds.map((c) => el('tr', { dataset: { type: c.type, status: c.status, id: c.id } },
      td('scr.d.c.command', { title: c.type, text: label('cmd', c.type) }),
      td('scr.d.c.status', {}, statusBadge('cmd', c.status, 'cmdStatus')),
      td('scr.d.c.sent', {}, timeEl(c.created_at)),
      td('scr.d.c.finished', {}, timeEl(c.finished_at)),
      td('scr.d.c.result', { class: 'result' }, c.error ? el('span', { class: 'error', text: c.error }) : (c.result || '')))));
    const sent = lastSent && cmds.find((c) => c.id === lastSent.id);
    if (sent && sent.status !== lastSent.status) {
      lastSent = sent;
      const what = { cmd: label('cmd', sent.type), status: label('cmdStatus', sent.status) };
      const detail = sent.error || sent.result || '';
      actionMsg.className = 'msg' + (sent.status === 'failed' || sent.status === 'expired' ? ' error' : '');
      actionMsg.textContent = detail ? t('scr.d.outcomeWith', { ...what, detail }) : t('scr.d.outcome', what);
    }
    if (!cmds.length) cmdBody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: t('scr.d.noCommands') })));
  }

  function renderHistory(trs) {
    histBody.replaceChildren(...trs.map((tr) => el('tr', {},
      el('td', { dataset: { label: t('scr.d.h.time') } }, el('span', { title: absTime(tr.at), text: absTime(tr.at) })),
      el('td', { dataset: { label: t('scr.d.h.change') } }, stateBadge(tr.from), ' → ', stateBadge(tr.to)),
      el('td', { dataset: { label: t('scr.d.h.reasons') } }, reasonsList(tr.reasons)))));
    if (!trs.length) histBody.append(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: t('scr.d.noHistory') })));
  }

  // loadTimeline previews the next 24 hours. A failure shows in its box
  // and leaves the rest of the page working.
  async function loadTimeline() {
    const now = new Date();
    const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const q = `from=${enc(iso(now))}&to=${enc(iso(new Date(now.getTime() + 24 * 3600 * 1000)))}`;
    let segs;
    let pls;
    let resp;
    try {
      [resp, pls] = await Promise.all([
        api('GET', `/screens/${enc(id)}/timeline?${q}`, undefined, { raw: true }),
        api('GET', '/playlists'),
      ]);
      segs = await resp.json();
    } catch (err) {
      if (err.handled) throw err;
      if (pg.alive) timelineBox.replaceChildren(el('p', { class: 'error', text: t('scr.d.tlFailed', { msg: err.message }) }));
      return;
    }
    if (!pg.alive) return;
    timelineAt = Date.now();
    const names = new Map((pls || []).map((p) => [p.id, p.name || p.id]));
    const rows = (segs || []).map((g) => {
      let what;
      if (g.fallback) what = el('span', { class: 'muted', text: t('scr.d.fallback') });
      else {
        const ids = g.playlists && g.playlists.length ? g.playlists : [g.playlist];
        what = [el('span', { class: 'tl-playlists', text: ids.map((p) => names.get(p) || p).join(' + ') }),
          el('span', { class: 'muted small', text: ' · ' + (g.default ? t('scr.d.defaultPlaylist') : t('scr.d.priority', { p: g.priority })) })];
      }
      return el('li', { class: 'tl-seg', dataset: { start: g.start, end: g.end } },
        el('div', { class: 'tl-when' }, shortTime(g.start), ' – ', shortTime(g.end)),
        el('div', {}, what,
          g.urgent && g.urgent.length ? el('span', { class: 'tag', text: t('scr.d.urgentN', { n: g.urgent.length }) }) : null),
        (g.items || []).length ? el('ol', { class: 'plain tl-items' }, g.items.map((it) => el('li', {},
          el('span', { class: 'tl-item', text: it.title || it.id }),
          el('span', { class: 'muted small', text: ` · ${label('kind', it.kind)} · ${t('dur.s', { s: it.duration_s })}` })))) : null);
    });
    const cut = resp.headers.get('X-Timeline-Truncated');
    // append (not replaceChildren) skips the absent parts instead of printing "null".
    timelineBox.replaceChildren();
    append(timelineBox, [
      rows.length ? el('ol', { class: 'timeline' }, rows) : el('p', { class: 'muted', text: t('scr.d.tlEmpty') }),
      cut ? el('p', { class: 'warn', text: t('scr.d.tlCut', { time: absTime(cut) }) }) : null,
      el('p', { class: 'muted small', text: t('scr.d.tlMade', { time: clockFormat.format(new Date(timelineAt)) }) })]);
  }

  // loadShot fetches the screenshot with the token (an <img src> could
  // not send it) and shows it from a blob: URL.
  async function loadShot() {
    let resp;
    try {
      resp = await api('GET', `/screens/${enc(id)}/screenshot`, undefined, { raw: true });
    } catch (err) {
      if (err.status === 404) {
        shotKey = 'none';
        shotBox.replaceChildren(el('p', { class: 'muted', text: t('scr.d.noShot') }));
        return;
      }
      throw err;
    }
    const key = resp.headers.get('Last-Modified') || String(Date.now());
    const blob = await resp.blob();
    if (!pg.alive) return;
    shotKey = key;
    pg.revoke(shotURL);
    shotURL = pg.objectURL(blob);
    const img = el('img', { src: shotURL, alt: t('scr.d.shotAlt') });
    shotBox.replaceChildren(el('a', { href: img.src, target: '_blank', rel: 'noopener' }, img),
      el('p', { class: 'muted', text: t('scr.d.shotAt', { time: absTime(key) }) }));
  }

  pg.poll(async () => {
    const [s, cmds, hist] = await Promise.all([
      api('GET', `/screens/${enc(id)}`),
      api('GET', `/screens/${enc(id)}/commands?limit=20`),
      api('GET', `/screens/${enc(id)}/history?limit=30`),
      loadLookups(),
    ]);
    let now = null;
    let nowErr = null;
    try {
      now = await api('GET', `/screens/${enc(id)}/now`);
    } catch (err) {
      if (err.handled || err.status !== 404) throw err;
      nowErr = err;
    }
    await knowGroups([s.group]);
    if (playlists === null && can('fleet.write')) {
      playlists = can('content.read') ? await api('GET', '/playlists').catch(() => []) : [];
    }
    if (!pg.alive) return;
    renderStatus(s);
    settings.show(s, playlists);
    renderNow(now, nowErr);
    renderCommands(cmds || []);
    renderHistory(hist || []);
    pending = (cmds || []).some((c) => c.status === 'queued' || c.status === 'delivered');
    // Fetch the image on first show, on Refresh, and when a screenshot
    // command finishes; not every ten seconds.
    const finished = new Set((cmds || []).filter((c) => c.type === 'screenshot' && c.status === 'done').map((c) => c.id));
    const fresh = doneShots !== null && [...finished].some((cid) => !doneShots.has(cid));
    doneShots = finished;
    if (!shotKey || fresh) await loadShot();
    if (Date.now() - timelineAt > 60000) await loadTimeline();
  }, () => (pending && Date.now() < fastUntil ? FAST_MS : REFRESH_MS));
}
