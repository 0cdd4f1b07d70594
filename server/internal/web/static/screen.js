// screen screen of the admin page.

import {
  REFRESH_MS, FAST_MS, FAST_FOR_MS, $, el, append, bi, clockFormat, absTime, timeEl, fmtBytes, fmtOffset, fmtDuration, stateBadge, statusBadge, reasonsList, versionCell, api, enc, loadLookups, can, itemLabel, groupLabel, shortTime,
} from './kit.js';
import { t, label } from './i18n.js';

const COMMANDS = [
  { type: 'identify', label: '识别', en: 'Identify', hint: '屏幕全屏显示名称和编号 30 秒' },
  { type: 'reload', label: '刷新页面', en: 'Reload', hint: '播放页面重新加载' },
  { type: 'resync', label: '校验缓存', en: 'Resync', hint: '重新校验全部缓存媒体，损坏的重新下载' },
  { type: 'screenshot', label: '截图', en: 'Screenshot', hint: '截取屏幕当前画面' },
];

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

  const title = el('h1', {}, el('span', { class: 'muted', text: '屏幕 ' }), el('span', { id: 'screen-name', text: id }));
  const badge = el('span', { id: 'screen-state' });
  const actionMsg = el('p', { id: 'action-msg', class: 'msg', role: 'status', hidden: true });
  const statusBox = el('dl', { class: 'kv', id: 'status' });
  const nowBox = el('div', { id: 'now' });
  const shotBox = el('div', { id: 'screenshot', class: 'shot' }, el('p', { class: 'muted', text: '加载中…' }));
  const timelineBox = el('div', { id: 'timeline' }, el('p', { class: 'muted', text: '加载中…' }));
  let timelineAt = 0; // when the preview was last fetched; it changes only when content does
  const cmdBody = el('tbody');
  const histBody = el('tbody');

  async function send(type) {
    actionMsg.hidden = false;
    actionMsg.className = 'msg';
    actionMsg.textContent = `正在发送「${label('cmd', type)}」…`;
    try {
      const cmd = await api('POST', `/screens/${enc(id)}/commands`, { type });
      actionMsg.textContent = `已发送「${label('cmd', type)}」，状态：${label('cmdStatus', cmd.status)}`;
      lastSent = cmd;
      fastUntil = Date.now() + FAST_FOR_MS;
      pg.tick();
    } catch (err) {
      if (err.handled) return;
      actionMsg.className = 'msg error';
      actionMsg.textContent = `发送失败 (failed)：${err.message}`;
    }
  }

  append(pg.root, [
    el('p', { class: 'crumbs' }, el('a', { href: '#/fleet' }, '← ', bi('设备总览', 'Fleet'))),
    el('div', { class: 'page-head' }, el('div', { class: 'title-row' }, title, badge),
      el('div', { class: 'toolbar' },
        el('button', { type: 'button', id: 'refresh', onclick: () => {
          shotKey = '';
          timelineAt = 0;
          pg.tick();
        } }, bi('刷新', 'Refresh')))),
    can('fleet.write') && el('div', { class: 'actions card' },
      el('h2', {}, bi('远程操作', 'Commands')),
      el('div', { class: 'buttons' }, COMMANDS.map((c) => el('button', {
        type: 'button', class: 'action', dataset: { command: c.type }, title: c.hint, onclick: () => send(c.type),
      }, bi(c.label, c.en)))),
      actionMsg),
    el('div', { class: 'columns' },
      el('section', { class: 'card' }, el('h2', {}, bi('状态', 'Status')), statusBox),
      el('section', { class: 'card' }, el('h2', {}, bi('现在应播放', 'Should be on screen now')), nowBox)),
    el('section', { class: 'card' }, el('h2', {}, bi('预览', 'Timeline'),
      el('span', { class: 'hint', text: '未来 24 小时将播放的内容（北京时间），与屏幕使用同一套排期计算。' })), timelineBox),
    el('div', { class: 'columns' },
      el('section', { class: 'card' }, el('h2', {}, bi('最近命令', 'Recent commands')),
        el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'commands' },
          el('thead', {}, el('tr', {}, el('th', {}, '命令'), el('th', {}, '状态'), el('th', {}, '发出'),
            el('th', {}, '结束'), el('th', {}, '结果 / 错误'))),
          cmdBody))),
      el('section', { class: 'card' }, el('h2', {}, bi('最新截图', 'Latest screenshot')), shotBox)),
    el('section', { class: 'card' }, el('h2', {}, bi('状态历史', 'State history')),
      el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'history' },
        el('thead', {}, el('tr', {}, el('th', {}, '时间'), el('th', {}, '变化'), el('th', {}, '原因'))),
        histBody))),
  ]);

  function kv(label, en, value) {
    return [el('dt', {}, bi(label, en)), el('dd', {}, value)];
  }

  function renderStatus(s) {
    $('#screen-name', pg.root).textContent = s.name || s.id;
    badge.replaceChildren(stateBadge(s.state));
    const tags = Array.isArray(s.tags) && s.tags.length ? s.tags.join('、') : '—';
    statusBox.replaceChildren(...[
      kv('编号', 'ID', el('code', { text: s.id })),
      kv('状态', 'State', [stateBadge(s.state), ' ', s.state_since ? ['自 ', timeEl(s.state_since)] : '', reasonsList(s.state_reasons)]),
      kv('连接', 'Connected', s.online ? '已连接 connected' : '未连接 not connected'),
      kv('最后在线', 'Last seen', timeEl(s.last_seen, '从未 never')),
      kv('当前内容', 'Current item', itemLabel(s.current_item)),
      kv('版本', 'Version', [versionCell(s.applied_version, s.published_version, s.up_to_date),
        s.up_to_date ? '' : el('span', { class: 'warn', text: ' 未同步到最新' })]),
      kv('分组', 'Group', groupLabel(s.group)),
      kv('标签', 'Tags', tags),
      kv('时区', 'Time zone', s.timezone || '默认 default'),
      kv('播放页面', 'Page', s.page_alive ? '正常 alive' : el('span', { class: 'warn', text: '无响应 not alive' })),
      kv('缓存', 'Cache', fmtBytes(s.cache_bytes)),
      kv('剩余磁盘', 'Disk free', s.disk_free_bytes ? fmtBytes(s.disk_free_bytes) : '—'),
      kv('时钟偏差', 'Clock offset', fmtOffset(s.clock_offset_ms)),
      kv('运行时间', 'Uptime', fmtDuration(s.uptime_s)),
      kv('播放器版本', 'Player version', s.player_version || '—'),
      s.last_sync_error ? kv('同步错误', 'Sync error', el('span', { class: 'error', text: s.last_sync_error })) : null,
      s.download_failures ? kv('下载失败', 'Download failures', String(s.download_failures)) : null,
    ].flat(Infinity).filter(Boolean));
  }

  function renderNow(now, err) {
    if (err) {
      nowBox.replaceChildren(el('p', { class: 'muted', text: err.message }));
      return;
    }
    const parts = [];
    parts.push(el('p', { class: 'muted' }, `${absTime(now.at)}（北京时间），屏幕时区 ${now.timezone || '默认'}`));
    if (now.online) {
      parts.push(el('p', {}, now.matches
        ? el('span', { class: 'badge ok', id: 'now-match' }, '与屏幕一致 ', el('small', { class: 'en', text: 'matches' }))
        : el('span', { class: 'badge bad', id: 'now-match' }, '与屏幕不一致 ', el('small', { class: 'en', text: 'mismatch' })),
      ' 屏幕报告：', itemLabel(now.current_item)));
    } else {
      parts.push(el('p', { class: 'muted', text: '屏幕未连接，无法比对。Screen not connected.' }));
    }
    const urgent = now.urgent || [];
    if (urgent.length) {
      parts.push(el('h3', {}, '紧急通知（优先显示）'),
        el('ul', { class: 'plain' }, urgent.map((u) => el('li', {}, el('span', { class: 'tag', text: '紧急' }), ' ', u.title,
          el('span', { class: 'muted' }, ' 至 ', absTime(u.expires_at))))));
    }
    const res = now.resolution || {};
    const entries = res.entries || [];
    if (entries.length) {
      parts.push(el('h3', {}, res.default ? '默认播放列表 (default playlist)' : `轮播（优先级 ${res.priority}）`),
        el('ol', { class: 'plain rotation' }, entries.map((e) => {
          const it = e.item || {};
          return el('li', { class: it.id === now.current_item ? 'playing' : '' }, it.title || it.id,
            el('span', { class: 'muted' }, ` · ${label('kind', it.kind)} · ${it.duration_s || '?'} 秒`));
        })));
    } else if (!urgent.length) {
      parts.push(el('p', { class: 'muted', text: '没有排期内容，屏幕显示备用页。Nothing scheduled: the fallback page.' }));
    }
    if (res.until) parts.push(el('p', { class: 'muted' }, '下次变化：', absTime(res.until)));
    nowBox.replaceChildren(...parts);
  }

  function renderCommands(cmds) {
    cmdBody.replaceChildren(...cmds.map((c) => el('tr', { dataset: { type: c.type, status: c.status, id: c.id } },
      el('td', { title: c.type, text: label('cmd', c.type) }),
      el('td', {}, statusBadge('cmd', c.status, 'cmdStatus')),
      el('td', {}, timeEl(c.created_at)),
      el('td', {}, timeEl(c.finished_at)),
      el('td', { class: 'result' }, c.error ? el('span', { class: 'error', text: c.error }) : (c.result || '')))));
    const sent = lastSent && cmds.find((c) => c.id === lastSent.id);
    if (sent && sent.status !== lastSent.status) {
      lastSent = sent;
      const label = `「${label('cmd', sent.type)}」${label('cmdStatus', sent.status)}`;
      actionMsg.className = 'msg' + (sent.status === 'failed' || sent.status === 'expired' ? ' error' : '');
      actionMsg.textContent = label + (sent.error ? `：${sent.error}` : sent.result ? `：${sent.result}` : '');
    }
    if (!cmds.length) cmdBody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: '还没有命令。' })));
  }

  function renderHistory(trs) {
    histBody.replaceChildren(...trs.map((t) => el('tr', {},
      el('td', {}, el('span', { title: absTime(t.at), text: absTime(t.at) })),
      el('td', {}, stateBadge(t.from), ' → ', stateBadge(t.to)),
      el('td', {}, reasonsList(t.reasons)))));
    if (!trs.length) histBody.append(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: '还没有状态变化。' })));
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
      if (pg.alive) timelineBox.replaceChildren(el('p', { class: 'error', text: `无法加载预览：${err.message}` }));
      return;
    }
    if (!pg.alive) return;
    timelineAt = Date.now();
    const names = new Map((pls || []).map((p) => [p.id, p.name || p.id]));
    const rows = (segs || []).map((g) => {
      let what;
      if (g.fallback) what = el('span', { class: 'muted' }, '备用页 ', el('small', { class: 'en', text: 'fallback: nothing scheduled' }));
      else {
        const ids = g.playlists && g.playlists.length ? g.playlists : [g.playlist];
        what = [el('span', { class: 'tl-playlists', text: ids.map((p) => names.get(p) || p).join(' + ') }),
          el('span', { class: 'muted small' }, g.default ? ' · 默认播放列表 default' : ` · 优先级 ${g.priority}`)];
      }
      return el('li', { class: 'tl-seg', dataset: { start: g.start, end: g.end } },
        el('div', { class: 'tl-when' }, shortTime(g.start), ' – ', shortTime(g.end)),
        el('div', {}, what,
          g.urgent && g.urgent.length ? el('span', { class: 'tag', text: `紧急通知 ×${g.urgent.length}` }) : null),
        (g.items || []).length ? el('ol', { class: 'plain tl-items' }, g.items.map((it) => el('li', {},
          el('span', { class: 'tl-item', text: it.title || it.id }),
          el('span', { class: 'muted small', text: ` · ${label('kind', it.kind)} · ${it.duration_s} 秒` })))) : null);
    });
    const cut = resp.headers.get('X-Timeline-Truncated');
    // append (not replaceChildren) skips the absent parts instead of printing "null".
    timelineBox.replaceChildren();
    append(timelineBox, [
      rows.length ? el('ol', { class: 'timeline' }, rows) : el('p', { class: 'muted', text: '没有内容。' }),
      cut ? el('p', { class: 'warn', text: `变化太多，只列到 ${absTime(cut)}。` }) : null,
      el('p', { class: 'muted small', text: `生成于 ${clockFormat.format(new Date(timelineAt))}` })]);
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
        shotBox.replaceChildren(el('p', { class: 'muted', text: '暂无截图。按「截图」让屏幕拍一张。No screenshot yet.' }));
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
    const img = el('img', { src: shotURL, alt: '屏幕截图 screenshot' });
    shotBox.replaceChildren(el('a', { href: img.src, target: '_blank', rel: 'noopener' }, img),
      el('p', { class: 'muted' }, '拍摄于 ', absTime(key), '（北京时间）'));
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
    if (!pg.alive) return;
    renderStatus(s);
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
