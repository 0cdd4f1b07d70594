// Kiosk admin page: fleet status and the most-used actions for technicians,
// and content (items, playlists, schedules) for editors.
//
// Everything shown here was written by someone else (screen names, item
// titles, notice bodies, error messages), so the DOM is built only with
// createElement and textContent; this file never assigns HTML. The CSP
// (script-src 'self', no inline) is the second line of defence.
//
// The admin token lives in sessionStorage: it survives a reload but not the
// tab, and it never goes into a URL or a cookie, so it cannot leak through
// history, logs or cross-site requests.
'use strict';

(() => {
  const TOKEN_KEY = 'kiosk.admin.token';
  const REFRESH_MS = 10000; // the fleet changes slowly; heartbeats come every few seconds
  const FAST_MS = 1000; // while a command the technician just sent is pending
  const FAST_FOR_MS = 30000;
  const TZ = 'Asia/Shanghai';
  const TZ_OFFSET = '+08:00'; // China keeps no daylight-saving time, so the offset is fixed

  const STATES = ['online', 'stale', 'degraded', 'offline'];
  const STATE_LABEL = { online: '在线', stale: '内容滞后', degraded: '异常', offline: '离线' };
  const COMMANDS = [
    { type: 'identify', label: '识别', en: 'Identify', hint: '屏幕全屏显示名称和编号 30 秒' },
    { type: 'reload', label: '刷新页面', en: 'Reload', hint: '播放页面重新加载' },
    { type: 'resync', label: '校验缓存', en: 'Resync', hint: '重新校验全部缓存媒体，损坏的重新下载' },
    { type: 'screenshot', label: '截图', en: 'Screenshot', hint: '截取屏幕当前画面' },
  ];
  const COMMAND_LABEL = {
    identify: '识别', reload: '刷新页面', resync: '校验缓存', screenshot: '截图',
    'clear-cache': '清除缓存', restart: '重启播放器',
  };
  const COMMAND_STATUS = { queued: '排队中', delivered: '已送达', done: '完成', failed: '失败', expired: '已过期' };
  const URGENT_STATUS = { active: '生效中', expired: '已过期', withdrawn: '已撤回' };
  const ALERT_KIND = { offline: '离线', stale: '内容滞后', degraded: '异常', recovered: '已恢复', mixed: '多种' };
  const DELIVERY_STATUS = { pending: '待发送', delivered: '已送达', failed: '发送失败' };
  const ITEM_KIND = { legal_story: '法律故事', notice: '服务信息', psa: '公益广告' };

  // ---- DOM helpers -------------------------------------------------------

  const $ = (sel, root = document) => root.querySelector(sel);

  // el builds an element. Strings become text nodes, never markup; props
  // set properties, attributes, listeners and data-* values.
  function el(tag, props, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') n.className = v;
      else if (k === 'text') n.textContent = v;
      else if (k === 'dataset') Object.assign(n.dataset, v);
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else if (['value', 'checked', 'disabled', 'hidden', 'required'].includes(k)) n[k] = v;
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    append(n, children);
    return n;
  }

  function append(n, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      n.append(c instanceof Node ? c : String(c)); // append(string) makes a text node
    }
    return n;
  }

  // bi is a Chinese label with its English name in small type.
  const bi = (zh, en) => [zh, ' ', el('small', { class: 'en', text: en })];

  // screenHref only ever builds a fragment from an encoded id, so a hostile
  // id cannot become a javascript: URL.
  const screenHref = (id) => '#/screen/' + encodeURIComponent(id);

  // ---- formatting --------------------------------------------------------

  const absFormat = new Intl.DateTimeFormat('zh-CN', {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  const clockFormat = new Intl.DateTimeFormat('zh-CN', {
    timeZone: TZ, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });

  // parseTime returns a Date, or null for absent and Go zero times.
  function parseTime(s) {
    if (!s) return null;
    const d = new Date(s);
    if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1971) return null;
    return d;
  }

  function absTime(s) {
    const d = parseTime(s);
    return d ? absFormat.format(d) : '—';
  }

  function relTime(s) {
    const d = parseTime(s);
    if (!d) return '—';
    const secs = Math.round((Date.now() - d.getTime()) / 1000);
    const a = Math.abs(secs);
    let n;
    let unit;
    if (a < 10) return '刚刚';
    if (a < 60) [n, unit] = [a, '秒'];
    else if (a < 3600) [n, unit] = [Math.floor(a / 60), '分钟'];
    else if (a < 86400) [n, unit] = [Math.floor(a / 3600), '小时'];
    else [n, unit] = [Math.floor(a / 86400), '天'];
    return `${n} ${unit}${secs >= 0 ? '前' : '后'}`;
  }

  // timeEl shows a relative time with the exact one on hover.
  function timeEl(s, never = '—') {
    const d = parseTime(s);
    if (!d) return el('span', { class: 'muted', text: never });
    return el('time', { datetime: d.toISOString(), title: absTime(s) + '（北京时间）' }, relTime(s));
  }

  function fmtBytes(n) {
    if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    let v = n;
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + units[i];
  }

  function fmtOffset(ms) {
    if (typeof ms !== 'number') return el('span', { class: 'muted', text: '—' });
    const a = Math.abs(ms);
    const sign = ms > 0 ? '+' : ms < 0 ? '−' : '';
    const text = a < 1000 ? `${sign}${a} ms` : a < 120000 ? `${sign}${(a / 1000).toFixed(1)} s` : `${sign}${Math.round(a / 60000)} min`;
    // The server's default skew threshold is one minute; the state reasons
    // say when this screen crossed its real one.
    return el('span', { class: a >= 60000 ? 'warn' : '', title: `${ms} ms`, text });
  }

  function fmtDuration(s) {
    if (typeof s !== 'number' || s <= 0) return '—';
    if (s < 60) return `${s} 秒`;
    if (s < 3600) return `${Math.floor(s / 60)} 分钟`;
    if (s < 86400) return `${Math.floor(s / 3600)} 小时 ${Math.floor((s % 3600) / 60)} 分`;
    return `${Math.floor(s / 86400)} 天 ${Math.floor((s % 86400) / 3600)} 小时`;
  }

  const shortVersion = (v) => (v ? String(v).slice(0, 8) : '—');

  function stateBadge(state) {
    if (!state) return el('span', { class: 'muted', title: '首次连接前 before first contact', text: '—' });
    const s = STATES.includes(state) ? state : 'unknown';
    return el('span', { class: `badge state-${s}`, dataset: { state: s } },
      STATE_LABEL[s] || '未知', ' ', el('small', { class: 'en', text: s }));
  }

  function statusBadge(kind, status, labels) {
    const s = String(status || 'unknown');
    return el('span', { class: `badge ${kind}-${s.replace(/[^a-z-]/g, '')}`, dataset: { status: s } },
      labels[s] || s, ' ', el('small', { class: 'en', text: s }));
  }

  function reasonsList(reasons) {
    if (!Array.isArray(reasons) || reasons.length === 0) return null;
    return el('ul', { class: 'reasons' }, reasons.map((r) => el('li', { text: r })));
  }

  function versionCell(applied, published, upToDate) {
    const mismatch = !!published && !upToDate;
    return el('span', {
      class: 'version' + (mismatch ? ' mismatch' : ''),
      title: `已应用 applied: ${applied || '—'}\n已发布 published: ${published || '—'}`,
    }, el('code', { text: shortVersion(applied) }), mismatch ? ' ≠ ' : ' = ', el('code', { text: shortVersion(published) }));
  }

  // ---- API ---------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function errorText(resp) {
    let msg = '';
    try {
      if ((resp.headers.get('Content-Type') || '').includes('json')) {
        const j = await resp.json();
        msg = j && typeof j.error === 'string' ? j.error : JSON.stringify(j);
      } else {
        msg = (await resp.text()).slice(0, 300);
      }
    } catch {
      // an unreadable body still has its status
    }
    return `HTTP ${resp.status}` + (msg ? `：${msg}` : '');
  }

  // api calls the admin API with the session's token. A 401 ends the
  // session (the token was rotated or mistyped) unless signing in, where the
  // form shows it instead. raw returns the Response for blobs. A FormData
  // body goes as multipart (media uploads), anything else as JSON.
  async function api(method, path, body, { signingIn = false, raw = false } = {}) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      signOut('');
      throw new ApiError(401, '未登录 (not signed in)');
    }
    const headers = { Authorization: 'Bearer ' + token, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
    if (body instanceof FormData) {
      init.body = body; // the browser sets the multipart boundary itself
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch('/api/v1' + path, init);
    } catch (err) {
      throw new ApiError(0, `无法连接服务器 (network error)：${err.message}`);
    }
    if (!resp.ok) {
      const err = new ApiError(resp.status, await errorText(resp));
      if (resp.status === 401 && !signingIn) {
        signOut(`令牌无效或已失效，请重新登录。Token rejected — ${err.message}`);
        err.handled = true;
      }
      throw err;
    }
    if (raw) return resp;
    if (resp.status === 204) return null;
    return resp.json();
  }

  const enc = encodeURIComponent;

  // Lookups change rarely; one fetch a minute keeps titles fresh without
  // doubling the load of every refresh.
  const lookups = { at: 0, items: new Map(), urgent: new Map(), groups: [], groupNames: new Map(), pending: null };
  async function loadLookups(force = false) {
    if (!force && Date.now() - lookups.at < 60000) return lookups;
    if (lookups.pending) return lookups.pending;
    lookups.pending = (async () => {
      try {
        const [items, urgent, groups] = await Promise.all([api('GET', '/items'), api('GET', '/urgent'), api('GET', '/groups')]);
        lookups.items = new Map((items || []).map((i) => [i.id, i]));
        lookups.urgent = new Map((urgent || []).map((u) => [u.id, u]));
        lookups.groups = groups || [];
        lookups.groupNames = new Map(lookups.groups.map((g) => [g.id, g.name || g.id]));
        lookups.at = Date.now();
        return lookups;
      } finally {
        lookups.pending = null;
      }
    })();
    return lookups.pending;
  }

  // itemLabel names what a screen shows: an item's title, an urgent
  // notice's title, or the bare id when neither is known.
  function itemLabel(id) {
    if (!id) return el('span', { class: 'muted', text: '—' });
    const it = lookups.items.get(id);
    if (it) return el('span', { title: `${ITEM_KIND[it.kind] || it.kind} · ${id}`, text: it.title });
    const u = lookups.urgent.get(id);
    if (u) return el('span', { class: 'urgent-label', title: id }, el('span', { class: 'tag', text: '紧急' }), ' ', u.title);
    return el('code', { text: id });
  }

  function groupLabel(id) {
    if (!id) return el('span', { class: 'muted', text: '—' });
    const name = lookups.groupNames.get(id);
    return el('span', { title: id, text: name || id });
  }

  // ---- page lifecycle ----------------------------------------------------

  // Page is one rendered view: its refresh loop and what to release when
  // the technician moves on.
  class Page {
    constructor(root) {
      this.root = root;
      this.alive = true;
      this.timer = 0;
      this.running = false;
      this.again = false;
      this.urls = [];
      this.delay = () => REFRESH_MS;
    }

    // poll runs load now and again after each delay; a load never overlaps
    // the previous one, and a hidden tab does not fetch.
    poll(load, delay) {
      this.load = load;
      if (delay) this.delay = delay;
      this.tick();
    }

    async tick() {
      clearTimeout(this.timer);
      if (!this.alive || !this.load) return;
      if (this.running) {
        this.again = true;
        return;
      }
      if (!document.hidden) {
        this.running = true;
        try {
          await this.load();
          if (this.alive) clearBanner();
        } catch (err) {
          if (this.alive && !err.handled) showBanner(`刷新失败 (refresh failed)：${err.message}`);
        } finally {
          this.running = false;
        }
      }
      if (!this.alive) return;
      if (this.again) {
        this.again = false;
        this.tick();
        return;
      }
      this.timer = setTimeout(() => this.tick(), this.delay());
    }

    objectURL(blob) {
      const u = URL.createObjectURL(blob);
      this.urls.push(u);
      return u;
    }

    revoke(u) {
      if (!u) return;
      URL.revokeObjectURL(u);
      this.urls = this.urls.filter((x) => x !== u);
    }

    dispose() {
      this.alive = false;
      clearTimeout(this.timer);
      for (const u of this.urls) URL.revokeObjectURL(u);
      this.urls = [];
    }
  }

  let page = null;

  function showBanner(msg) {
    const b = $('#banner');
    b.textContent = msg;
    b.hidden = false;
  }

  function clearBanner() {
    $('#banner').hidden = true;
  }

  function showSignIn(msg) {
    if (page) page.dispose();
    page = null;
    $('#view').hidden = true;
    $('#view').replaceChildren();
    $('#nav').hidden = true;
    clearBanner();
    $('#signin').hidden = false;
    const m = $('#signin-msg');
    m.textContent = msg || '';
    m.hidden = !msg;
    $('#token').focus();
  }

  function signOut(msg) {
    sessionStorage.removeItem(TOKEN_KEY);
    lookups.at = 0;
    showSignIn(msg);
  }

  function parseHash() {
    const h = location.hash.replace(/^#\/?/, '');
    const [path, query] = h.split('?', 2);
    const parts = path.split('/');
    let arg = '';
    try {
      arg = parts[1] ? decodeURIComponent(parts[1]) : '';
    } catch {
      arg = '';
    }
    return { name: parts[0] || 'fleet', arg, query: new URLSearchParams(query || '') };
  }

  const views = {};

  function route() {
    if (!sessionStorage.getItem(TOKEN_KEY)) {
      showSignIn('');
      return;
    }
    if (page) page.dispose();
    clearBanner();
    $('#signin').hidden = true;
    $('#nav').hidden = false;
    const root = $('#view');
    root.replaceChildren();
    root.hidden = false;
    const { name, arg, query } = parseHash();
    const view = views[name] || views.notFound;
    for (const a of document.querySelectorAll('#nav a')) {
      const on = a.dataset.route === name || (name === 'screen' && a.dataset.route === 'fleet');
      if (on) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    page = new Page(root);
    view(page, arg, query);
  }

  // ---- fleet -------------------------------------------------------------

  views.fleet = (pg, _arg, query) => {
    const state = query.get('state') || '';
    const group = query.get('group') || '';
    const setFilter = (k, v) => {
      const q = new URLSearchParams({ state, group });
      q.set(k, v);
      for (const key of [...q.keys()]) if (!q.get(key)) q.delete(key);
      const s = q.toString();
      location.hash = '#/fleet' + (s ? '?' + s : '');
    };

    const stateSel = el('select', { id: 'filter-state', onchange: (e) => setFilter('state', e.target.value) },
      el('option', { value: '', text: '全部状态 All states' }),
      STATES.map((s) => el('option', { value: s, text: `${STATE_LABEL[s]} ${s}` })));
    stateSel.value = state;
    const groupSel = el('select', { id: 'filter-group', onchange: (e) => setFilter('group', e.target.value) },
      el('option', { value: '', text: '全部分组 All groups' }));
    const updated = el('span', { class: 'muted updated' });
    const counts = el('div', { class: 'counts', id: 'counts' });
    const tbody = el('tbody');
    const empty = el('p', { class: 'muted empty', hidden: true });

    append(pg.root, [
      el('div', { class: 'page-head' },
        el('h1', {}, bi('设备总览', 'Fleet')),
        el('div', { class: 'toolbar' },
          el('label', {}, '状态 ', stateSel),
          el('label', {}, '分组 ', groupSel),
          el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick() }, bi('刷新', 'Refresh')),
          updated)),
      counts,
      el('div', { class: 'table-wrap' },
        el('table', { class: 'grid', id: 'screens' },
          el('thead', {}, el('tr', {},
            el('th', {}, bi('名称', 'Name')),
            el('th', {}, bi('分组', 'Group')),
            el('th', {}, bi('状态', 'State')),
            el('th', {}, bi('最后在线', 'Last seen')),
            el('th', {}, bi('当前内容', 'Current item')),
            el('th', {}, bi('版本 已应用/已发布', 'Applied/Published')),
            el('th', { class: 'num' }, bi('缓存', 'Cache')),
            el('th', { class: 'num' }, bi('时钟偏差', 'Clock offset')),
            el('th', {}, bi('播放器', 'Player')))),
          tbody)),
      empty,
    ]);

    function renderGroups() {
      const opts = [el('option', { value: '', text: '全部分组 All groups' })];
      for (const g of lookups.groups) opts.push(el('option', { value: g.id, text: g.name && g.name !== g.id ? `${g.name} (${g.id})` : g.id }));
      if (group && !lookups.groupNames.has(group)) opts.push(el('option', { value: group, text: group }));
      groupSel.replaceChildren(...opts);
      groupSel.value = group;
    }

    function renderCounts(fleet) {
      const by = (fleet && fleet.by_state) || {};
      const card = (key, label, en, n) => el('button', {
        type: 'button',
        class: `count count-${key}` + (state === key || (!state && key === 'all') ? ' selected' : ''),
        dataset: { state: key },
        onclick: () => setFilter('state', key === 'all' ? '' : key),
      }, el('span', { class: 'n', text: String(n ?? 0) }), el('span', { class: 'label' }, bi(label, en)));
      counts.replaceChildren(
        card('all', '全部', 'total', fleet && fleet.total),
        ...STATES.map((s) => card(s, STATE_LABEL[s], s, by[s])));
    }

    function row(s) {
      return el('tr', { class: 'clickable', dataset: { screenId: s.id, state: s.state || '' }, onclick: (e) => {
        if (e.target.closest('a')) return; // the link navigates by itself
        location.hash = screenHref(s.id);
      } },
      el('td', { class: 'name' }, el('a', { href: screenHref(s.id), class: 'screen-name', text: s.name || s.id }),
        el('div', { class: 'muted id', text: s.id })),
      el('td', {}, groupLabel(s.group)),
      el('td', {}, stateBadge(s.state), reasonsList(s.state_reasons)),
      el('td', {}, timeEl(s.last_seen, '从未 never')),
      el('td', { class: 'current' }, itemLabel(s.current_item)),
      el('td', {}, versionCell(s.applied_version, s.published_version, s.up_to_date)),
      el('td', { class: 'num' }, fmtBytes(s.cache_bytes)),
      el('td', { class: 'num' }, fmtOffset(s.clock_offset_ms)),
      el('td', {}, s.player_version ? el('code', { text: s.player_version }) : el('span', { class: 'muted', text: '—' })));
    }

    pg.poll(async () => {
      const q = new URLSearchParams();
      if (state) q.set('state', state);
      if (group) q.set('group', group);
      const qs = q.toString();
      const [fleet, screens] = await Promise.all([
        api('GET', '/fleet'),
        api('GET', '/screens' + (qs ? '?' + qs : '')),
        loadLookups(),
      ]);
      if (!pg.alive) return;
      renderGroups();
      renderCounts(fleet);
      const list = (screens || []).slice().sort((a, b) => (a.name || '').localeCompare(b.name || '', 'zh-CN') || a.id.localeCompare(b.id));
      tbody.replaceChildren(...list.map(row));
      empty.hidden = list.length > 0;
      empty.textContent = state || group ? '没有符合筛选条件的屏幕。No screens match the filter.' : '还没有屏幕。No screens yet.';
      updated.textContent = '更新于 ' + clockFormat.format(new Date());
    });
  };

  // ---- screen detail -----------------------------------------------------

  views.screen = (pg, id) => {
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
      actionMsg.textContent = `正在发送「${COMMAND_LABEL[type]}」…`;
      try {
        const cmd = await api('POST', `/screens/${enc(id)}/commands`, { type });
        actionMsg.textContent = `已发送「${COMMAND_LABEL[type]}」(${type})，状态：${COMMAND_STATUS[cmd.status] || cmd.status}`;
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
      el('div', { class: 'actions card' },
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
              el('span', { class: 'muted' }, ` · ${ITEM_KIND[it.kind] || it.kind || ''} · ${it.duration_s || '?'} 秒`));
          })));
      } else if (!urgent.length) {
        parts.push(el('p', { class: 'muted', text: '没有排期内容，屏幕显示备用页。Nothing scheduled: the fallback page.' }));
      }
      if (res.until) parts.push(el('p', { class: 'muted' }, '下次变化：', absTime(res.until)));
      nowBox.replaceChildren(...parts);
    }

    function renderCommands(cmds) {
      cmdBody.replaceChildren(...cmds.map((c) => el('tr', { dataset: { type: c.type, status: c.status, id: c.id } },
        el('td', {}, COMMAND_LABEL[c.type] || c.type, ' ', el('small', { class: 'en', text: c.type })),
        el('td', {}, statusBadge('cmd', c.status, COMMAND_STATUS)),
        el('td', {}, timeEl(c.created_at)),
        el('td', {}, timeEl(c.finished_at)),
        el('td', { class: 'result' }, c.error ? el('span', { class: 'error', text: c.error }) : (c.result || '')))));
      const sent = lastSent && cmds.find((c) => c.id === lastSent.id);
      if (sent && sent.status !== lastSent.status) {
        lastSent = sent;
        const label = `「${COMMAND_LABEL[sent.type] || sent.type}」${COMMAND_STATUS[sent.status] || sent.status}`;
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
            el('span', { class: 'muted small', text: ` · ${ITEM_KIND[it.kind] || it.kind || ''} · ${it.duration_s} 秒` })))) : null);
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
  };

  // ---- urgent notices ----------------------------------------------------

  // shanghaiLocal formats an instant for a datetime-local input, in Beijing time.
  function shanghaiLocal(d) {
    return new Date(d.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 16);
  }

  views.urgent = (pg) => {
    const msg = el('p', { id: 'urgent-error', class: 'error', role: 'alert', hidden: true });
    const okMsg = el('p', { id: 'urgent-ok', class: 'ok-text', role: 'status', hidden: true });
    const titleIn = el('input', { id: 'u-title', name: 'title', required: true, maxlength: 200, autocomplete: 'off' });
    const bodyIn = el('textarea', { id: 'u-body', name: 'body', rows: 3, maxlength: 5000 });
    const expIn = el('input', { id: 'u-expires', name: 'expires', type: 'datetime-local', required: true, step: 60 });
    expIn.value = shanghaiLocal(new Date(Date.now() + 3600 * 1000));
    const groupBox = el('div', { class: 'choices', id: 'u-groups', hidden: true });
    const screenBox = el('div', { class: 'choices', id: 'u-screens', hidden: true });
    const radio = (value, zh, en, checked) => el('label', { class: 'inline' },
      el('input', { type: 'radio', name: 'target', value, checked, onchange: showTargets }), ' ', bi(zh, en));
    const tbody = el('tbody');
    let screensCache = [];

    function targetKind() {
      return $('input[name="target"]:checked', pg.root).value;
    }

    function showTargets() {
      const k = targetKind();
      groupBox.hidden = k !== 'groups';
      screenBox.hidden = k !== 'screens';
    }

    function checkboxes(box, list, name) {
      const checked = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
      box.replaceChildren(...list.map((x) => el('label', { class: 'inline choice' },
        el('input', { type: 'checkbox', name, value: x.id, checked: checked.has(x.id) }), ' ',
        x.name && x.name !== x.id ? `${x.name}` : x.id, el('small', { class: 'muted', text: ` ${x.id}` }))));
      if (!list.length) box.append(el('span', { class: 'muted', text: '（无）' }));
    }

    const form = el('form', { id: 'urgent-form', class: 'card form', method: 'post', novalidate: true, onsubmit: submit },
      el('h2', {}, bi('发送紧急通知', 'Send an urgent notice')),
      el('p', { class: 'muted', text: '紧急通知会在 2 秒内全屏覆盖目标屏幕，直到到期或撤回。' }),
      el('label', { for: 'u-title' }, bi('标题', 'Title')), titleIn,
      el('label', { for: 'u-body' }, bi('正文', 'Body')), bodyIn,
      el('fieldset', {}, el('legend', {}, bi('发送范围', 'Target')),
        radio('all', '全部屏幕', 'all screens', true), radio('groups', '按分组', 'groups', false),
        radio('screens', '指定屏幕', 'screens', false), groupBox, screenBox),
      el('label', { for: 'u-expires' }, bi('到期时间', 'Expires at'),
        el('span', { class: 'hint', text: '按北京时间（Asia/Shanghai, UTC+8）理解，与浏览器时区无关；最长 7 天。' })),
      expIn,
      el('div', { class: 'form-actions' }, el('button', { type: 'submit', class: 'primary', id: 'u-send' }, bi('发送', 'Send'))),
      msg, okMsg);

    async function submit(e) {
      e.preventDefault();
      msg.hidden = true;
      okMsg.hidden = true;
      const fail = (text) => {
        msg.textContent = text;
        msg.hidden = false;
      };
      const title = titleIn.value.trim();
      if (!title) return fail('请填写标题。title: is required');
      if (!expIn.value) return fail('请选择到期时间。expires_at: is required');
      const target = {};
      const k = targetKind();
      if (k === 'all') target.all = true;
      else {
        const box = k === 'groups' ? groupBox : screenBox;
        const ids = [...box.querySelectorAll('input:checked')].map((i) => i.value);
        if (!ids.length) return fail(k === 'groups' ? '请至少选择一个分组。' : '请至少选择一块屏幕。');
        target[k] = ids;
      }
      // datetime-local gives "YYYY-MM-DDTHH:MM" (seconds only if typed);
      // the fixed +08:00 makes it Beijing time whatever the browser's zone.
      const local = expIn.value.length === 16 ? expIn.value + ':00' : expIn.value;
      const body = { title, body: bodyIn.value, target, expires_at: local + TZ_OFFSET };
      const btn = $('#u-send', form);
      btn.disabled = true;
      try {
        const n = await api('POST', '/urgent', body);
        okMsg.textContent = `已发送「${n.title}」，${absTime(n.expires_at)} 到期。`;
        okMsg.hidden = false;
        titleIn.value = '';
        bodyIn.value = '';
        lookups.at = 0; // the new notice may be what screens show next
        pg.tick();
      } catch (err) {
        if (!err.handled) fail(`发送失败 (rejected)：${err.message}`);
      } finally {
        btn.disabled = false;
      }
    }

    function targetText(t) {
      if (!t) return '—';
      if (t.all) return '全部屏幕';
      const parts = [];
      if (t.groups && t.groups.length) parts.push('分组：' + t.groups.map((g) => lookups.groupNames.get(g) || g).join('、'));
      if (t.tags && t.tags.length) parts.push('标签：' + t.tags.join('、'));
      if (t.screens && t.screens.length) {
        const names = new Map(screensCache.map((s) => [s.id, s.name || s.id]));
        parts.push('屏幕：' + t.screens.map((s) => names.get(s) || s).join('、'));
      }
      return parts.join('；') || '—';
    }

    // withdrawButton asks twice instead of using confirm(): a modal dialog
    // would block the refresh loop and is easy to click through.
    function withdrawButton(n) {
      let armed = 0;
      const b = el('button', { type: 'button', class: 'danger small', dataset: { withdraw: n.id } }, '撤回');
      b.addEventListener('click', async () => {
        if (!armed) {
          b.textContent = '确认撤回？';
          armed = setTimeout(() => {
            armed = 0;
            b.textContent = '撤回';
          }, 4000);
          return;
        }
        clearTimeout(armed);
        b.disabled = true;
        try {
          await api('DELETE', `/urgent/${enc(n.id)}`);
          pg.tick();
        } catch (err) {
          if (!err.handled) showBanner(`撤回失败 (withdraw failed)：${err.message}`);
          b.disabled = false;
        }
      });
      return b;
    }

    append(pg.root, [
      el('div', { class: 'page-head' }, el('h1', {}, bi('紧急通知', 'Urgent notices')),
        el('div', { class: 'toolbar' }, el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick() }, bi('刷新', 'Refresh')))),
      form,
      el('section', { class: 'card' }, el('h2', {}, bi('近 7 天的通知', 'Notices, last 7 days')),
        el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'urgent-list' },
          el('thead', {}, el('tr', {}, el('th', {}, '标题'), el('th', {}, '正文'), el('th', {}, '范围'), el('th', {}, '状态'),
            el('th', {}, '发出'), el('th', {}, '到期（北京时间）'), el('th', {}, ''))),
          tbody))),
    ]);

    let targetsLoaded = false;
    pg.poll(async () => {
      const [list, screens] = await Promise.all([api('GET', '/urgent'), api('GET', '/screens'), loadLookups()]);
      if (!pg.alive) return;
      screensCache = screens || [];
      // Rebuilding the choices keeps what is ticked; doing it once per
      // refresh picks up new groups and screens.
      checkboxes(groupBox, lookups.groups, 'groups');
      checkboxes(screenBox, screensCache, 'screens');
      if (!targetsLoaded) {
        targetsLoaded = true;
        showTargets();
      }
      tbody.replaceChildren(...(list || []).map((n) => el('tr', { dataset: { id: n.id, status: n.status } },
        el('td', { class: 'u-title', text: n.title }),
        el('td', { class: 'u-body', text: n.body || '' }),
        el('td', { text: targetText(n.target) }),
        el('td', {}, statusBadge('urgent', n.status, URGENT_STATUS)),
        el('td', {}, timeEl(n.created_at)),
        el('td', {}, absTime(n.withdrawn_at || n.expires_at)),
        el('td', {}, n.status === 'active' ? withdrawButton(n) : ''))));
      if (!list || !list.length) tbody.append(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: '近 7 天没有紧急通知。' })));
    });
  };

  // ---- content: shared helpers -------------------------------------------

  // beijingInstant turns a datetime-local value ("YYYY-MM-DDTHH:MM", seconds
  // only if typed) into RFC 3339 in Beijing time, whatever the browser's zone.
  function beijingInstant(v) {
    return (v.length === 16 ? v + ':00' : v) + TZ_OFFSET;
  }

  // beijingLocal is the inverse for a form being edited: an RFC 3339 time
  // (in any offset) as the datetime-local value of its Beijing wall clock,
  // '' for none. The offset is fixed (see TZ_OFFSET), so adding it and
  // reading the UTC fields is exact.
  function beijingLocal(s) {
    const d = parseTime(s);
    if (!d) return '';
    const iso = new Date(d.getTime() + 8 * 3600 * 1000).toISOString();
    return iso.slice(0, d.getUTCSeconds() ? 19 : 16);
  }

  const shortFormat = new Intl.DateTimeFormat('zh-CN', {
    timeZone: TZ, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  });

  function shortTime(s) {
    const d = parseTime(s);
    return d ? shortFormat.format(d) : '—';
  }

  // formMessages is the error and success lines beside a form. fail shows
  // an API error ({"error"} already unpacked by api) or a local check.
  function formMessages(prefix) {
    const error = el('p', { id: `${prefix}-error`, class: 'error', role: 'alert', hidden: true });
    const ok = el('p', { id: `${prefix}-ok`, class: 'ok-text', role: 'status', hidden: true });
    return {
      error, ok,
      clear() {
        error.hidden = true;
        ok.hidden = true;
      },
      fail(text) {
        ok.hidden = true;
        error.textContent = text;
        error.hidden = false;
      },
      done(text) {
        error.hidden = true;
        ok.textContent = text;
        ok.hidden = false;
      },
    };
  }

  // confirmButton asks twice instead of using confirm(), like the urgent
  // page's withdraw: a modal dialog would block the refresh loop and is
  // easy to click through.
  function confirmButton(label, confirmLabel, dataset, action) {
    let armed = 0;
    const b = el('button', { type: 'button', class: 'danger small', dataset }, label);
    b.addEventListener('click', async () => {
      if (!armed) {
        b.textContent = confirmLabel;
        armed = setTimeout(() => {
          armed = 0;
          b.textContent = label;
        }, 4000);
        return;
      }
      clearTimeout(armed);
      armed = 0;
      b.disabled = true;
      try {
        await action();
      } finally {
        b.disabled = false;
        b.textContent = label;
      }
    });
    return b;
  }

  function refreshBar(pg) {
    return el('div', { class: 'toolbar' }, el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick() }, bi('刷新', 'Refresh')));
  }

  function kindBadge(kind) {
    const k = String(kind || '');
    return el('span', { class: `badge kind-${k.replace(/[^a-z_]/g, '')}`, dataset: { kind: k } },
      ITEM_KIND[k] || k || '?', ' ', el('small', { class: 'en', text: k }));
  }

  // targetChoices is the all / groups / screens picker shared by forms
  // that address screens. refresh rebuilds the boxes and keeps what is
  // ticked; set(t) shows a saved Target for editing; value() returns a
  // Target or a Chinese reason it is incomplete.
  function targetChoices(root, prefix) {
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
  function representable(t) {
    if (!t) return true;
    const kinds = [t.all, t.groups && t.groups.length, t.screens && t.screens.length].filter(Boolean).length;
    return kinds <= 1 && !(t.tags && t.tags.length);
  }

  function targetSummary(t, screenNames) {
    if (!t) return '—';
    if (t.all) return '全部屏幕';
    const parts = [];
    if (t.groups && t.groups.length) parts.push('分组：' + t.groups.map((g) => lookups.groupNames.get(g) || g).join('、'));
    if (t.tags && t.tags.length) parts.push('标签：' + t.tags.join('、'));
    if (t.screens && t.screens.length) parts.push('屏幕：' + t.screens.map((s) => screenNames.get(s) || s).join('、'));
    return parts.join('；') || '—';
  }

  // ---- content: items ----------------------------------------------------

  const MEDIA_ACCEPT = 'image/png,image/jpeg,image/webp,image/gif,video/mp4,video/webm';

  views.items = (pg) => {
    const m = formMessages('item');
    let editing = null; // the item being edited, or null for a new one
    let uploaded = null; // {file, sha}: a retry after a refused save does not upload again
    let mimes = new Map(); // asset sha → MIME, from GET /assets
    const thumbs = new Map(); // sha → Promise of a blob: URL (content-addressed, so kept)
    const thumbURLs = new Map(); // sha → the blob: URL once loaded, to draw without a flicker

    const heading = el('h2', { id: 'item-form-title' });
    const kindSel = el('select', { id: 'i-kind', name: 'kind' },
      Object.entries(ITEM_KIND).map(([k, zh]) => el('option', { value: k, text: `${zh} ${k}` })));
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
      heading.replaceChildren(...bi('新建内容', 'New item'));
      saveBtn.replaceChildren(...bi('创建', 'Create'));
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
      heading.replaceChildren(...bi('编辑内容', 'Edit item'), ' ', el('code', { text: it.id }));
      saveBtn.replaceChildren(...bi('保存', 'Save'));
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

    // thumbFor shows an image asset from a blob: URL (an <img src> could
    // not send the token); other media get a label.
    function thumbFor(sha) {
      const mime = mimes.get(sha) || '';
      if (!mime.startsWith('image/')) {
        return el('span', { class: 'muted', title: sha, text: mime.startsWith('video/') ? '视频 video' : '媒体 media' });
      }
      const img = (u) => el('img', { src: u, alt: '缩略图 thumbnail' });
      if (thumbURLs.has(sha)) return el('span', { class: 'thumb', dataset: { sha } }, img(thumbURLs.get(sha)));
      const box = el('span', { class: 'thumb', dataset: { sha } }, el('span', { class: 'muted', text: '…' }));
      if (!thumbs.has(sha)) {
        thumbs.set(sha, (async () => {
          const resp = await api('GET', `/assets/${enc(sha)}/raw`, undefined, { raw: true });
          const blob = await resp.blob();
          if (!pg.alive) return '';
          const u = pg.objectURL(blob);
          thumbURLs.set(sha, u);
          return u;
        })());
      }
      thumbs.get(sha).then((u) => {
        if (u) box.replaceChildren(img(u));
      }, (err) => {
        thumbs.delete(sha); // try again on the next refresh
        box.replaceChildren(el('span', { class: 'error small', title: err.message, text: '无法加载' }));
      });
      return box;
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
        m.done(`已保存「${it.title}」。Saved.`);
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
      form,
      el('section', { class: 'card' }, el('h2', {}, bi('全部内容', 'All items')),
        el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'items' },
          el('thead', {}, el('tr', {}, el('th', {}, '类型'), el('th', {}, '标题'), el('th', { class: 'num' }, '时长'),
            el('th', {}, '媒体'), el('th', {}, '更新'), el('th', {}, ''))),
          tbody))),
    ]);
    reset();

    pg.poll(async () => {
      const [items, assets] = await Promise.all([api('GET', '/items'), api('GET', '/assets')]);
      if (!pg.alive) return;
      mimes = new Map((assets || []).map((a) => [a.sha256, a.mime]));
      const list = (items || []).slice().sort((a, b) => String(b.updated_at || '').localeCompare(String(a.updated_at || '')));
      tbody.replaceChildren(...list.map((it) => el('tr', { dataset: { id: it.id, kind: it.kind } },
        el('td', {}, kindBadge(it.kind)),
        el('td', { class: 'i-title' }, el('div', { class: 'item-title', text: it.title }),
          it.body ? el('div', { class: 'muted small u-body', text: it.body }) : null),
        el('td', { class: 'num', text: `${it.duration_s} 秒` }),
        el('td', {}, it.asset ? thumbFor(it.asset) : el('span', { class: 'muted', text: '—' })),
        el('td', {}, timeEl(it.updated_at || it.created_at)),
        el('td', { class: 'row-actions' },
          el('button', { type: 'button', class: 'small', dataset: { edit: it.id }, onclick: () => edit(it) }, '编辑'), ' ',
          confirmButton('删除', '确认删除？', { delete: it.id }, async () => {
            try {
              await api('DELETE', `/items/${enc(it.id)}`);
              if (editing && editing.id === it.id) reset();
              m.done(`已删除「${it.title}」。Deleted.`);
              lookups.at = 0;
              pg.tick();
            } catch (err) {
              if (!err.handled) m.fail(`删除失败 (delete failed)：${err.message}`);
            }
          })))));
      if (!list.length) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: '还没有内容。No items yet.' })));
    });
  };

  // ---- content: playlists ------------------------------------------------

  views.playlists = (pg) => {
    const m = formMessages('playlist');
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
        ...list.map((it) => el('option', { value: it.id, text: `${it.title}（${ITEM_KIND[it.kind] || it.kind}）` })));
      if (items.has(keep)) addSel.value = keep;
    }

    function reset() {
      editing = null;
      order = [];
      heading.replaceChildren(...bi('新建播放列表', 'New playlist'));
      saveBtn.replaceChildren(...bi('创建', 'Create'));
      cancelBtn.hidden = true;
      nameIn.value = '';
      renderOrder();
    }

    function edit(p) {
      editing = p;
      order = (p.items || []).slice();
      m.clear();
      heading.replaceChildren(...bi('编辑播放列表', 'Edit playlist'), ' ', el('code', { text: p.id }));
      saveBtn.replaceChildren(...bi('保存', 'Save'));
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
        m.done(`已保存「${p.name}」。Saved.`);
        pg.tick();
      } catch (err) {
        if (!err.handled) m.fail(`保存失败 (rejected)：${err.message}`);
      } finally {
        saveBtn.disabled = false;
      }
    }

    append(pg.root, [
      el('div', { class: 'page-head' }, el('h1', {}, bi('播放列表', 'Playlists')), refreshBar(pg)),
      form,
      el('section', { class: 'card' }, el('h2', {}, bi('全部播放列表', 'All playlists')),
        el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'playlists' },
          el('thead', {}, el('tr', {}, el('th', {}, '名称'), el('th', {}, '内容（按顺序）'), el('th', { class: 'num' }, '一轮时长'),
            el('th', {}, '更新'), el('th', {}, ''))),
          tbody))),
    ]);
    reset();

    pg.poll(async () => {
      const [list, itemList] = await Promise.all([api('GET', '/playlists'), api('GET', '/items')]);
      if (!pg.alive) return;
      items = new Map((itemList || []).map((i) => [i.id, i]));
      renderAddOptions();
      renderOrder();
      const pls = (list || []).slice().sort((a, b) => (a.name || '').localeCompare(b.name || '', 'zh-CN'));
      tbody.replaceChildren(...pls.map((p) => {
        const ids = p.items || [];
        const total = ids.reduce((n, id) => n + (items.has(id) ? items.get(id).duration_s : 0), 0);
        return el('tr', { dataset: { id: p.id } },
          el('td', { class: 'p-name', text: p.name }),
          el('td', {}, ids.length ? el('ol', { class: 'plain' }, ids.map((id) => el('li', { text: titleOf(id) })))
            : el('span', { class: 'muted', text: '（空）' })),
          el('td', { class: 'num', text: fmtDuration(total) }),
          el('td', {}, timeEl(p.updated_at || p.created_at)),
          el('td', { class: 'row-actions' },
            el('button', { type: 'button', class: 'small', dataset: { edit: p.id }, onclick: () => edit(p) }, '编辑'), ' ',
            confirmButton('删除', '确认删除？', { delete: p.id }, async () => {
              try {
                await api('DELETE', `/playlists/${enc(p.id)}`);
                if (editing && editing.id === p.id) reset();
                m.done(`已删除「${p.name}」。Deleted.`);
                pg.tick();
              } catch (err) {
                if (!err.handled) m.fail(`删除失败 (delete failed)：${err.message}`);
              }
            })));
      }));
      if (!pls.length) tbody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: '还没有播放列表。No playlists yet.' })));
    });
  };

  // ---- content: schedules ------------------------------------------------

  views.schedules = (pg) => {
    const m = formMessages('schedule');
    let editing = null; // the schedule being edited, or null for a new one
    let keepTarget = null; // editing's target while the form cannot show it whole and it is untouched
    let playlists = new Map();
    let screenNames = new Map();

    const heading = el('h2', { id: 'schedule-form-title' });

    const nameIn = el('input', { id: 's-name', name: 'name', maxlength: 200, autocomplete: 'off' });
    const plSel = el('select', { id: 's-playlist', name: 'playlist', required: true });
    const target = targetChoices(pg.root, 's');
    const cronIn = el('input', { id: 's-cron', name: 'cron', autocomplete: 'off', spellcheck: 'false', placeholder: '例如 0 7 * * 1-5' });
    const durIn = el('input', { id: 's-duration', name: 'duration_s', type: 'number', min: 1, step: 1, placeholder: '例如 3600' });
    const fromIn = el('input', { id: 's-from', name: 'from', type: 'datetime-local', step: 60 });
    const toIn = el('input', { id: 's-to', name: 'to', type: 'datetime-local', step: 60 });
    const prioIn = el('input', { id: 's-priority', name: 'priority', type: 'number', step: 1, value: '0' });
    const saveBtn = el('button', { type: 'submit', class: 'primary', id: 's-save' });
    const cancelBtn = el('button', { type: 'button', id: 's-cancel', onclick: () => reset() }, bi('取消编辑', 'Cancel'));
    const targetNote = el('p', { id: 's-target-note', class: 'warn small', hidden: true });
    const tbody = el('tbody');

    // Touching the target picker means the technician chose a new target.
    target.node.addEventListener('change', () => {
      keepTarget = null;
      targetNote.hidden = true;
    });

    function reset() {
      editing = null;
      keepTarget = null;
      heading.replaceChildren(...bi('新建排期', 'New schedule'));
      saveBtn.replaceChildren(...bi('创建', 'Create'));
      cancelBtn.hidden = true;
      targetNote.hidden = true;
      for (const i of [nameIn, cronIn, durIn, fromIn, toIn]) i.value = '';
      plSel.value = '';
      prioIn.value = '0';
      target.set(null);
    }

    function edit(s) {
      editing = s;
      m.clear();
      heading.replaceChildren(...bi('编辑排期', 'Edit schedule'), ' ', el('code', { text: s.id }));
      saveBtn.replaceChildren(...bi('保存', 'Save'));
      cancelBtn.hidden = false;
      nameIn.value = s.name || '';
      plSel.value = s.playlist; // '' (choose…) if the playlist is gone: the check below asks for one
      target.set(s.target);
      keepTarget = representable(s.target) ? null : s.target;
      targetNote.textContent = keepTarget
        ? `此排期的目标（${targetSummary(s.target, screenNames)}）含标签或多种类型，上面无法完整显示；不改动目标则按原样保存。`
        : '';
      targetNote.hidden = !keepTarget;
      cronIn.value = s.cron || '';
      durIn.value = s.duration_s ? String(s.duration_s) : '';
      fromIn.value = beijingLocal(s.from);
      toIn.value = beijingLocal(s.to);
      prioIn.value = String(s.priority || 0);
      form.scrollIntoView({ block: 'start' });
      plSel.focus();
    }

    const form = el('form', { id: 'schedule-form', class: 'card form', method: 'post', novalidate: true, onsubmit: submit },
      heading,
      el('label', { for: 's-name' }, bi('名称（可选）', 'Name, optional')), nameIn,
      el('label', { for: 's-playlist' }, bi('播放列表', 'Playlist')), plSel,
      target.node, targetNote,
      el('label', { for: 's-cron' }, bi('时段规则（可选）', 'Cron, optional'),
        el('span', { class: 'hint', text: '五段 cron：分 时 日 月 星期，按屏幕时区。例如 “0 7 * * 1-5” = 工作日 07:00 开始。留空 = 全天有效。' })),
      cronIn,
      el('label', { for: 's-duration' }, bi('每次持续（秒）', 'Duration, seconds'),
        el('span', { class: 'hint', text: '仅与时段规则一起使用：每次开始后持续多久，例如 3600 = 1 小时，最长 7 天。' })),
      durIn,
      el('label', { for: 's-from' }, bi('开始于（可选）', 'From, optional'),
        el('span', { class: 'hint', text: '按北京时间（Asia/Shanghai, UTC+8）理解，与浏览器时区无关；留空 = 立即。' })),
      fromIn,
      el('label', { for: 's-to' }, bi('结束于（可选）', 'To, optional'), el('span', { class: 'hint', text: '北京时间；留空 = 一直有效。' })),
      toIn,
      el('label', { for: 's-priority' }, bi('优先级', 'Priority'),
        el('span', { class: 'hint', text: '同时生效的排期中，优先级最高的播放；相同优先级的合并轮播。' })),
      prioIn,
      el('div', { class: 'form-actions' }, saveBtn, ' ', cancelBtn),
      m.error, m.ok);

    async function submit(e) {
      e.preventDefault();
      m.clear();
      if (!plSel.value) return m.fail('请选择播放列表。playlist: is required');
      const t = keepTarget ? { target: keepTarget } : target.value();
      if (t.problem) return m.fail(t.problem);
      const body = { playlist: plSel.value, target: t.target, priority: Number(prioIn.value || '0') };
      if (!Number.isInteger(body.priority)) return m.fail('优先级须为整数。priority: must be an integer');
      if (nameIn.value.trim()) body.name = nameIn.value.trim();
      const cron = cronIn.value.trim();
      if (cron) {
        body.cron = cron;
        const d = Number(durIn.value);
        if (!durIn.value || !Number.isInteger(d) || d < 1) return m.fail('设置了时段规则时须填写每次持续的秒数。duration_s: required with cron');
        body.duration_s = d;
      } else if (durIn.value) {
        return m.fail('持续秒数只与时段规则一起使用；请填写规则或清空秒数。duration_s: only applies with cron');
      }
      if (fromIn.value) body.from = beijingInstant(fromIn.value);
      if (toIn.value) body.to = beijingInstant(toIn.value);
      const plName = playlists.has(body.playlist) ? playlists.get(body.playlist).name : body.playlist;
      saveBtn.disabled = true;
      try {
        if (editing) {
          // PUT replaces the whole schedule: what the form leaves empty
          // (name, cron, from, to) is cleared, as the form shows.
          await api('PUT', `/schedules/${enc(editing.id)}`, body);
          reset();
          m.done(`已保存排期：${plName}。Saved.`);
        } else {
          await api('POST', '/schedules', body);
          for (const i of [nameIn, cronIn, durIn, fromIn, toIn]) i.value = '';
          m.done(`已创建排期：${plName}。Created.`);
        }
        pg.tick();
      } catch (err) {
        if (!err.handled) m.fail(`${editing ? '保存失败' : '创建失败'} (rejected)：${err.message}`);
      } finally {
        saveBtn.disabled = false;
      }
    }

    function when(s) {
      if (!s.cron) return el('span', {}, '全天 ', el('small', { class: 'en', text: 'always' }));
      return el('span', {}, el('code', { text: s.cron }), ` 起 ${fmtDuration(s.duration_s)}`);
    }

    append(pg.root, [
      el('div', { class: 'page-head' }, el('h1', {}, bi('排期', 'Schedules')), refreshBar(pg)),
      form,
      el('section', { class: 'card' }, el('h2', {}, bi('全部排期', 'All schedules')),
        el('div', { class: 'table-wrap' }, el('table', { class: 'grid', id: 'schedules' },
          el('thead', {}, el('tr', {}, el('th', {}, '播放列表'), el('th', {}, '目标'), el('th', {}, '时段'),
            el('th', {}, '有效期（北京时间）'), el('th', { class: 'num' }, '优先级'), el('th', {}, ''))),
          tbody))),
    ]);
    reset();

    pg.poll(async () => {
      const [list, pls, screens] = await Promise.all([api('GET', '/schedules'), api('GET', '/playlists'),
        api('GET', '/screens'), loadLookups()]);
      if (!pg.alive) return;
      playlists = new Map((pls || []).map((p) => [p.id, p]));
      screenNames = new Map((screens || []).map((s) => [s.id, s.name || s.id]));
      const keep = plSel.value;
      plSel.replaceChildren(el('option', { value: '', text: '选择播放列表… choose a playlist' }),
        ...[...playlists.values()].sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'))
          .map((p) => el('option', { value: p.id, text: `${p.name}（${(p.items || []).length} 项）` })));
      if (playlists.has(keep)) plSel.value = keep;
      target.refresh(lookups.groups, screens || []);
      const scs = (list || []).slice().sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
      tbody.replaceChildren(...scs.map((s) => el('tr', { dataset: { id: s.id, playlist: s.playlist } },
        el('td', {}, el('span', { class: 's-playlist', text: playlists.has(s.playlist) ? playlists.get(s.playlist).name : s.playlist }),
          s.name ? el('div', { class: 'muted small', text: s.name }) : null),
        el('td', { class: 's-target', text: targetSummary(s.target, screenNames) }),
        el('td', {}, when(s)),
        el('td', {}, s.from || s.to ? `${s.from ? absTime(s.from) : '不限'} – ${s.to ? absTime(s.to) : '不限'}` : '长期 always'),
        el('td', { class: 'num', text: String(s.priority) }),
        el('td', { class: 'row-actions' },
          el('button', { type: 'button', class: 'small', dataset: { edit: s.id }, onclick: () => edit(s) }, bi('编辑', 'Edit')), ' ',
          confirmButton('删除', '确认删除？', { delete: s.id }, async () => {
            try {
              await api('DELETE', `/schedules/${enc(s.id)}`);
              if (editing && editing.id === s.id) reset();
              m.done('已删除排期。Deleted.');
              pg.tick();
            } catch (err) {
              if (!err.handled) m.fail(`删除失败 (delete failed)：${err.message}`);
            }
          })))));
      if (!scs.length) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: '还没有排期。No schedules yet.' })));
    });
  };

  // ---- alerts ------------------------------------------------------------

  views.alerts = (pg) => {
    const tbody = el('tbody');
    append(pg.root, [
      el('div', { class: 'page-head' }, el('h1', {}, bi('告警', 'Alerts')),
        el('div', { class: 'toolbar' }, el('button', { type: 'button', id: 'refresh', onclick: () => pg.tick() }, bi('刷新', 'Refresh')))),
      el('div', { class: 'table-wrap card' }, el('table', { class: 'grid', id: 'alerts' },
        el('thead', {}, el('tr', {}, el('th', {}, '时间'), el('th', {}, '类型'), el('th', {}, '摘要'),
          el('th', {}, '屏幕'), el('th', {}, bi('推送', 'Webhook delivery')))),
        tbody)),
    ]);
    pg.poll(async () => {
      const list = await api('GET', '/alerts?limit=100');
      if (!pg.alive) return;
      tbody.replaceChildren(...(list || []).map((a) => el('tr', { dataset: { id: a.id, kind: a.kind } },
        el('td', {}, timeEl(a.created_at)),
        el('td', {}, statusBadge('alert', a.kind, ALERT_KIND), a.grouped ? el('span', { class: 'tag', text: '合并' }) : ''),
        el('td', { text: a.summary || '' }),
        el('td', {}, el('ul', { class: 'plain' }, (a.screens || []).map((s) => el('li', {},
          el('a', { href: screenHref(s.screen), text: s.name || s.screen }), ' ',
          stateBadge(s.from), ' → ', stateBadge(s.to), reasonsList(s.reasons))))),
        el('td', {}, (a.deliveries || []).length
          ? el('ul', { class: 'plain' }, a.deliveries.map((d) => el('li', {},
            statusBadge('delivery', d.status, DELIVERY_STATUS), ' ', el('code', { class: 'url', text: d.url || d.webhook }),
            el('span', { class: 'muted' }, ` · ${d.attempts} 次尝试${d.last_code ? ' · HTTP ' + d.last_code : ''}`),
            d.last_error ? el('div', { class: 'error small', text: d.last_error }) : null)))
          : el('span', { class: 'muted', text: '未配置 webhook' })))));
      if (!list || !list.length) tbody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: '没有告警。No alerts.' })));
    });
  };

  views.notFound = (pg) => {
    append(pg.root, el('div', { class: 'card' }, el('p', { text: '没有这个页面。' }), el('a', { href: '#/fleet', text: '返回设备总览' })));
  };

  // ---- start -------------------------------------------------------------

  function start() {
    $('#signin-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const input = $('#token');
      const m = $('#signin-msg');
      const token = input.value.trim();
      if (!token) {
        m.textContent = '请输入令牌。Enter the token.';
        m.hidden = false;
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, token);
      try {
        await api('GET', '/fleet', undefined, { signingIn: true });
      } catch (err) {
        sessionStorage.removeItem(TOKEN_KEY);
        m.textContent = err.status === 401 || err.status === 403
          ? `令牌不正确。Token rejected — ${err.message}`
          : `无法登录：${err.message}`;
        m.hidden = false;
        return;
      }
      input.value = '';
      m.hidden = true;
      if (!location.hash || location.hash === '#') location.hash = '#/fleet';
      else route();
    });
    $('#signout').addEventListener('click', () => signOut('已退出。Signed out.'));
    window.addEventListener('hashchange', route);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && page) page.tick();
    });
    route();
  }

  start();
})();
