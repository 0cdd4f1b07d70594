// player versions screen of the admin page (admins): the version
// distribution across the fleet, signed player builds (upload), staged
// roll-outs (start with canary groups, pause, resume, advance) and each
// screen's progress in one.
//
// The server checks every upload against the release key and every screen
// checks the build again; this page only shows what they report.

import { $, el, append, L, api, enc, can, absTime, fmtBytes, screenHref, lookups, loadLookups } from './kit.js';
import { t, fmtNumber } from './i18n.js';
import { listText } from './targets.js';

// SCREEN_CLASS colours a screen's roll-out state with the page's badges.
const SCREEN_CLASS = {
  running: 'badge ok', failed: 'badge bad',
  offered: 'badge state-stale', downloading: 'badge state-stale', downloaded: 'badge state-stale',
};

const label = (prefix, v) => {
  const key = `${prefix}.${v}`;
  return t(key) === key ? v : t(key);
};

function stateBadge(prefix, v, cls) {
  return el('span', { class: cls || 'badge', dataset: { state: v }, title: v }, label(prefix, v));
}

// versionsLine is the fleet page's one line on player versions: how many
// screens run which version and, for admins, how the current roll-out
// stands, linking here. A failure to load it leaves the line as it was.
export function versionsLine() {
  const node = el('p', { class: 'muted', id: 'fleet-versions' });
  async function refresh() {
    try {
      const vs = (await api('GET', '/player-versions')) || [];
      const parts = [t('rel.fleetVersions'), ' '];
      vs.forEach((v, i) => parts.push(i ? ' · ' : '', el('code', { text: v.version || t('rel.unknown') }), ` ×${fmtNumber(v.screens)}`));
      if (can('releases')) {
        const cur = ((await api('GET', '/rollouts')) || []).find((r) => r.state !== 'superseded');
        if (cur) {
          const v = await api('GET', '/rollouts/' + enc(cur.id));
          const c = v.counts || {};
          parts.push(' — ', el('a', { href: '#/player-versions/' + enc(cur.id) },
            t('rel.fleetRollout', {
              version: cur.version, state: label('rel.phase', cur.state) + (cur.paused ? t('rel.pausedSuffix') : ''),
              running: c.running || 0, failed: c.failed || 0,
            })));
        }
      }
      node.replaceChildren();
      append(node, parts);
    } catch {
      // The fleet table matters more; the next refresh tries again.
    }
  }
  return { node, refresh };
}

export default function releasesView(pg, arg) {
  const versionsBody = el('tbody', { id: 'rel-versions' });
  const buildsBody = el('tbody', { id: 'rel-builds' });
  const rolloutsBody = el('tbody', { id: 'rel-rollouts' });
  const detail = el('div', { id: 'rel-detail' });
  const updated = el('span', { class: 'muted updated' });

  // upload form
  const upMsg = el('p', { id: 'rel-upload-error', class: 'error', role: 'alert', hidden: true });
  const upOk = el('p', { id: 'rel-upload-ok', class: 'ok-text', role: 'status', hidden: true });
  const binIn = el('input', { id: 'rel-binary', type: 'file' });
  const manIn = el('input', { id: 'rel-manifest', type: 'file', accept: 'application/json,.json' });
  const upBtn = el('button', { type: 'submit', class: 'primary', id: 'rel-upload-submit' }, L('rel.uploadSubmit'));
  const uploadForm = el('form', { id: 'rel-upload', class: 'card form', novalidate: true, onsubmit: upload },
    el('h2', {}, L('rel.upload')),
    el('p', { class: 'muted', text: t('rel.uploadHint') }),
    el('label', { for: 'rel-binary' }, L('rel.binary')), binIn,
    el('label', { for: 'rel-manifest' }, L('rel.manifest')), manIn,
    el('div', { class: 'form-actions' }, upBtn),
    upMsg, upOk);

  // roll-out form
  const roMsg = el('p', { id: 'rel-start-error', class: 'error', role: 'alert', hidden: true });
  const roOk = el('p', { id: 'rel-start-ok', class: 'ok-text', role: 'status', hidden: true });
  const buildSel = el('select', { id: 'rel-build' });
  const canaryBox = el('div', { class: 'choices', id: 'rel-canary' });
  const pctIn = el('input', { id: 'rel-percent', type: 'number', min: 0, max: 100, step: 1, value: '20' });
  const roBtn = el('button', { type: 'submit', class: 'primary', id: 'rel-start-submit' }, L('rel.startSubmit'));
  const startForm = el('form', { id: 'rel-start', class: 'card form', novalidate: true, onsubmit: startRollout },
    el('h2', {}, L('rel.start')),
    el('p', { class: 'muted', text: t('rel.startHint') }),
    el('label', { for: 'rel-build' }, L('rel.build')), buildSel,
    el('fieldset', {}, el('legend', {}, L('rel.canary')), canaryBox),
    el('label', { for: 'rel-percent' }, L('rel.percent'), el('span', { class: 'hint', text: t('rel.percentHint') })), pctIn,
    el('div', { class: 'form-actions' }, roBtn),
    roMsg, roOk);

  append(pg.root, [
    el('div', { class: 'page-head' },
      el('h1', {}, L('rel.title')),
      el('div', { class: 'toolbar' },
        el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick() }, L('common.refresh')),
        updated)),
    el('section', { class: 'card' },
      el('h2', {}, L('rel.versions')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid' },
        el('thead', {}, el('tr', {},
          el('th', {}, L('rel.version')), el('th', { class: 'num' }, L('rel.screens')), el('th', { class: 'num' }, L('rel.online')))),
        versionsBody))),
    detail,
    startForm,
    uploadForm,
    el('section', { class: 'card' },
      el('h2', {}, L('rel.builds')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid' },
        el('thead', {}, el('tr', {},
          el('th', {}, L('rel.version')), el('th', {}, L('rel.platform')), el('th', { class: 'num' }, L('rel.size')),
          el('th', {}, L('rel.sha')), el('th', {}, L('rel.key')), el('th', {}, L('rel.uploadedAt')), el('th', {}, L('rel.uploadedBy')))),
        buildsBody))),
    el('section', { class: 'card' },
      el('h2', {}, L('rel.rollouts')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid' },
        el('thead', {}, el('tr', {},
          el('th', {}, L('rel.version')), el('th', {}, L('rel.state')), el('th', {}, L('rel.canary')),
          el('th', { class: 'num' }, L('rel.coverage')), el('th', {}, L('rel.createdAt')), el('th', {}, L('rel.createdBy')))),
        rolloutsBody))),
  ]);

  const fail = (node, key, vars) => {
    node.textContent = t(key, vars);
    node.hidden = false;
  };

  async function upload(e) {
    e.preventDefault();
    upMsg.hidden = upOk.hidden = true;
    const bin = binIn.files[0];
    const man = manIn.files[0];
    if (!bin || !man) return fail(upMsg, 'rel.needFiles');
    const fd = new FormData();
    // The manifest first: small, and the server reads it before the binary.
    fd.append('manifest', await man.text());
    fd.append('file', bin, 'kiosk-player');
    upBtn.disabled = true;
    try {
      const b = await api('POST', '/player-builds', fd);
      upOk.textContent = t('rel.uploaded', { version: b.version, platform: b.platform });
      upOk.hidden = false;
      binIn.value = manIn.value = '';
      pg.tick();
    } catch (err) {
      if (!err.handled) fail(upMsg, 'rel.failed', { msg: err.message });
    } finally {
      upBtn.disabled = false;
    }
  }

  async function startRollout(e) {
    e.preventDefault();
    roMsg.hidden = roOk.hidden = true;
    const build = buildSel.value;
    if (!build) return fail(roMsg, 'rel.needBuild');
    const canary = [...canaryBox.querySelectorAll('input:checked')].map((i) => i.value);
    const percent = Number(pctIn.value || 0);
    roBtn.disabled = true;
    try {
      const r = await api('POST', '/rollouts', { build, canary_groups: canary, percent });
      roOk.textContent = t('rel.started', { id: r.id });
      roOk.hidden = false;
      location.hash = '#/player-versions/' + enc(r.id);
    } catch (err) {
      if (!err.handled) fail(roMsg, 'rel.failed', { msg: err.message });
    } finally {
      roBtn.disabled = false;
    }
  }

  function renderVersions(vs) {
    versionsBody.replaceChildren(...(vs || []).map((v) => el('tr', { dataset: { version: v.version } },
      el('td', {}, v.version ? el('code', { text: v.version }) : el('span', { class: 'muted', text: t('rel.unknown') })),
      el('td', { class: 'num', text: fmtNumber(v.screens) }),
      el('td', { class: 'num', text: fmtNumber(v.online) }))));
  }

  function renderBuilds(bs) {
    buildsBody.replaceChildren(...bs.map((b) => el('tr', { dataset: { sha: b.sha256 } },
      el('td', {}, el('code', { text: b.version })),
      el('td', { text: b.platform }),
      el('td', { class: 'num', text: fmtBytes(b.size) }),
      el('td', {}, el('code', { title: b.sha256, text: b.sha256.slice(0, 12) })),
      el('td', {}, el('code', { text: b.key_id })),
      el('td', { text: absTime(b.uploaded_at) }),
      el('td', { text: b.uploaded_by || '—' }))));
    if (!bs.length) buildsBody.append(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: t('rel.noBuilds') })));
    // One choice per version: a roll-out offers every platform's build of it.
    const keep = buildSel.value;
    const seen = new Set();
    const opts = [el('option', { value: '', text: '—' })];
    for (const b of bs) {
      if (seen.has(b.version)) continue;
      seen.add(b.version);
      const platforms = bs.filter((x) => x.version === b.version).map((x) => x.platform).join(', ');
      opts.push(el('option', { value: b.sha256, text: `${b.version} (${platforms})` }));
    }
    buildSel.replaceChildren(...opts);
    if ([...buildSel.options].some((o) => o.value === keep)) buildSel.value = keep;
  }

  function renderCanaryChoices() {
    const checked = new Set([...canaryBox.querySelectorAll('input:checked')].map((i) => i.value));
    canaryBox.replaceChildren(...lookups.groups.map((g) => el('label', { class: 'inline choice' },
      el('input', { type: 'checkbox', name: 'canary', value: g.id, checked: checked.has(g.id) }), ' ',
      g.name || g.id, el('small', { class: 'muted', text: ` ${g.id}` }))));
    if (!lookups.groups.length) canaryBox.append(el('span', { class: 'muted', text: t('common.none') }));
  }

  const phase = (r) => stateBadge('rel.phase', r.state, r.state === 'done' ? 'badge ok' : r.state === 'superseded' ? 'badge' : 'badge state-stale');
  const groupNames = (ids) => (ids && ids.length ? listText(ids.map((g) => lookups.groupNames.get(g) || g)) : '—');

  function renderRollouts(rs, selected) {
    rolloutsBody.replaceChildren(...rs.map((r) => el('tr', {
      class: 'clickable' + (r.id === selected ? ' selected' : ''), dataset: { rollout: r.id },
      onclick: () => { location.hash = '#/player-versions/' + enc(r.id); },
    },
    el('td', {}, el('a', { href: '#/player-versions/' + enc(r.id) }, el('code', { text: r.version }))),
    el('td', {}, phase(r), r.paused ? [' ', el('span', { class: 'badge bad', text: t('rel.paused') })] : null),
    el('td', { text: groupNames(r.canary_groups) }),
    el('td', { class: 'num', text: r.state === 'canary' ? '0%' : `${r.coverage}%` }),
    el('td', { text: absTime(r.created_at) }),
    el('td', { text: r.created_by || '—' }))));
    if (!rs.length) rolloutsBody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: t('rel.noRollouts') })));
  }

  async function act(id, action, btn) {
    btn.disabled = true;
    const m = $('#rel-act-error', detail);
    if (m) m.hidden = true;
    try {
      await api('POST', `/rollouts/${enc(id)}/${action}`);
      pg.tick();
    } catch (err) {
      if (!err.handled && m) fail(m, 'rel.failed', { msg: err.message });
      btn.disabled = false;
    }
  }

  function renderDetail(v) {
    detail.replaceChildren();
    if (!v) return;
    const live = v.state !== 'superseded';
    const buttons = [];
    if (live) {
      buttons.push(v.paused
        ? el('button', { type: 'button', id: 'rel-resume', onclick: (e) => act(v.id, 'resume', e.target.closest('button')) }, L('rel.resume'))
        : el('button', { type: 'button', id: 'rel-pause', class: 'danger', onclick: (e) => act(v.id, 'pause', e.target.closest('button')) }, L('rel.pause')));
      if (v.state !== 'done') {
        buttons.push(el('button', { type: 'button', id: 'rel-advance', class: 'primary', onclick: (e) => act(v.id, 'advance', e.target.closest('button')) }, L('rel.advance')));
      }
    }
    const counts = el('div', { class: 'counts', id: 'rel-counts' },
      ['failed', 'downloaded', 'downloading', 'offered', 'pending', 'running', 'waiting'].filter((s) => v.counts[s]).map((s) =>
        el('div', { class: 'count', dataset: { state: s } },
          el('span', { class: 'n', text: fmtNumber(v.counts[s]) }), stateBadge('rel.s', s, SCREEN_CLASS[s]))));
    const rows = v.screens.map((s) => el('tr', { dataset: { screen: s.screen, state: s.state } },
      el('td', {}, el('a', { href: screenHref(s.screen), text: s.name || s.screen }),
        s.canary ? [' ', el('span', { class: 'tag', text: t('rel.canaryMark') })] : null),
      el('td', { text: s.group ? (lookups.groupNames.get(s.group) || s.group) : '—' }),
      el('td', {}, stateBadge('rel.s', s.state, SCREEN_CLASS[s.state])),
      el('td', {}, s.player_version ? el('code', { text: s.player_version }) : '—', s.online ? '' : [' ', el('small', { class: 'muted', text: t('state.offline') })]),
      el('td', { text: s.platform || '—' }),
      el('td', { class: s.error ? 'error' : 'muted', text: s.error || '' }),
      el('td', { text: s.updated_at ? absTime(s.updated_at) : '—' })));
    append(detail, el('section', { class: 'card', id: 'rel-rollout', dataset: { rollout: v.id, state: v.state, paused: String(!!v.paused) } },
      el('div', { class: 'page-head' },
        el('h2', {}, L('rel.current'), ' ', el('code', { text: v.version })),
        el('div', { class: 'toolbar' }, buttons)),
      el('p', {},
        phase(v), v.paused ? [' ', el('span', { class: 'badge bad', text: t('rel.paused') })] : null, ' ',
        t('rel.rolloutLine', { canary: groupNames(v.canary_groups), coverage: v.state === 'canary' ? 0 : v.coverage, percent: v.percent }),
        ` · ${v.id}`),
      el('p', { id: 'rel-act-error', class: 'error', role: 'alert', hidden: true }),
      counts,
      el('h3', {}, L('rel.progress')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'rel-progress' },
        el('thead', {}, el('tr', {},
          el('th', {}, L('rel.screen')), el('th', {}, L('rel.group')), el('th', {}, L('rel.state')),
          el('th', {}, L('rel.running')), el('th', {}, L('rel.platform')), el('th', {}, L('rel.error')), el('th', {}, L('rel.updatedAt')))),
        el('tbody', {}, rows)))));
  }

  pg.poll(async () => {
    const [versions, builds, rollouts] = await Promise.all([
      api('GET', '/player-versions'), api('GET', '/player-builds'), api('GET', '/rollouts'), loadLookups()]);
    if (!pg.alive) return;
    renderVersions(versions);
    renderBuilds(builds || []);
    renderCanaryChoices();
    const rs = rollouts || [];
    const selected = arg || (rs.find((r) => r.state !== 'superseded') || {}).id || '';
    renderRollouts(rs, selected);
    renderDetail(selected ? await api('GET', '/rollouts/' + enc(selected)) : null);
    updated.textContent = `${t('rel.refreshed')} ${absTime(new Date().toISOString())}`;
    updated.title = t('rel.refreshed');
  });
}
