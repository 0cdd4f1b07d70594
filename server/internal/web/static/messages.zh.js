// The Chinese message catalogue of the admin page (the default language).
// Every key here is in messages.en.js too; i18n_test.go fails otherwise.
// Values are plain text with {name} placeholders, never markup.

export default {
  // labels of server states and kinds
  'state.online': '在线', 'state.stale': '内容滞后', 'state.degraded': '异常', 'state.offline': '离线',

  // roles
  'role.admin': '管理员', 'role.reviewer': '审核员', 'role.editor': '编辑', 'role.technician': '技术员', 'role.viewer': '只读',

  // navigation
  'nav.fleet': '设备总览', 'nav.items': '内容', 'nav.playlists': '播放列表', 'nav.schedules': '排期',
  'nav.review': '变更/审核', 'nav.urgent': '紧急通知', 'nav.alerts': '告警', 'nav.safeMode': '安全模式', 'nav.users': '用户管理',
  'nav.audit': '审计日志', 'nav.account': '我的账户', 'nav.signout': '退出',
  'nav.releases': '播放器版本',

  // player versions: builds, roll-outs (releases.js)
  'rel.title': '播放器版本', 'rel.refreshed': '更新于',
  'rel.versions': '全部屏幕的版本分布', 'rel.version': '版本', 'rel.screens': '屏幕数', 'rel.online': '在线', 'rel.unknown': '未上报',
  'rel.upload': '上传已签名的播放器',
  'rel.uploadHint': '播放器须用离线保管的发布密钥签名：kiosk-release sign -key release.key -version 版本 -platform 平台 kiosk-player > 清单.json。把二进制文件和清单一起上传；服务器用 -release-key 验证签名、大小和 SHA-256，屏幕安装前会再验证一次。',
  'rel.binary': '播放器二进制文件', 'rel.manifest': '签名清单（JSON）', 'rel.uploadSubmit': '上传',
  'rel.uploaded': '已上传 {version}（{platform}）。', 'rel.needFiles': '请选择二进制文件和签名清单。', 'rel.failed': '操作失败：{msg}',
  'rel.builds': '已上传的播放器', 'rel.platform': '平台', 'rel.size': '大小', 'rel.sha': 'SHA-256', 'rel.key': '签名密钥',
  'rel.uploadedAt': '上传时间', 'rel.uploadedBy': '上传人', 'rel.noBuilds': '还没有上传播放器。',
  'rel.start': '开始推送新版本',
  'rel.startHint': '先推送到试点分组；确认试点屏幕运行正常后点“推进”，推送到其余屏幕中的一部分，再推进到全部屏幕。随时可以暂停。新建推送会替代尚未结束的推送。新版本若不能上线并应用当前内容，屏幕会自动回退到原版本，并在这里显示为失败。',
  'rel.build': '版本', 'rel.canary': '试点分组', 'rel.percent': '第二阶段比例（%）',
  'rel.percentHint': '试点之后，先推送到其余屏幕中的这一比例（按屏幕固定选取）；0 或 100 表示直接推送到全部屏幕。',
  'rel.startSubmit': '开始推送', 'rel.started': '推送 {id} 已开始。', 'rel.needBuild': '请选择要推送的版本。',
  'rel.rollouts': '推送记录', 'rel.current': '推送', 'rel.noRollouts': '还没有推送。',
  'rel.state': '状态', 'rel.coverage': '其余屏幕覆盖', 'rel.paused': '已暂停', 'rel.createdBy': '发起人', 'rel.createdAt': '开始时间',
  'rel.pause': '暂停', 'rel.resume': '继续', 'rel.advance': '推进到下一阶段',
  'rel.progress': '各屏幕进度', 'rel.screen': '屏幕', 'rel.group': '分组', 'rel.running': '当前版本', 'rel.error': '原因', 'rel.updatedAt': '更新时间',
  'rel.canaryMark': '试点',
  'rel.fleetVersions': '播放器版本：', 'rel.fleetRollout': '推送 {version}（{state}）：{running} 块已运行新版本，{failed} 块失败',
  'rel.phase.canary': '试点', 'rel.phase.rest': '其余屏幕', 'rel.phase.done': '全部屏幕', 'rel.phase.superseded': '已被替代',
  'rel.s.waiting': '未轮到', 'rel.s.pending': '待推送', 'rel.s.offered': '已推送', 'rel.s.downloading': '下载中',
  'rel.s.downloaded': '已下载，重启中', 'rel.s.running': '已运行新版本', 'rel.s.failed': '失败/已回退',

  // sign-in and session
  'signin.username': '用户名', 'signin.password': '密码', 'signin.totp': '动态验证码',
  'signin.totpHint': '打开身份验证器应用，输入当前的 6 位数字。',
  'signin.submit': '登录', 'signin.withToken': '使用令牌登录',
  'signin.tokenHint': '应急管理员令牌（服务器的 KIOSK_ADMIN_TOKEN）或个人 API 令牌。令牌只保存在本标签页的会话中，关闭标签页即清除。',
  'signin.token': '令牌',
  'signin.needUser': '请输入用户名和密码。',
  'signin.needToken': '请输入令牌。',
  'signin.bad': '用户名或密码不正确。',
  'signin.totpNeeded': '请输入身份验证器中的动态验证码。',
  'signin.totpWrong': '动态验证码不正确，请重新输入。',
  'signin.tooMany': '尝试次数过多，请 {secs} 秒后再试。',
  'signin.tooManySoon': '尝试次数过多，请稍后再试。',
  'signin.tokenBad': '令牌不正确：{msg}',
  'signin.failed': '无法登录：{msg}',
  'session.expired': '会话已过期，请重新登录',
  'session.tokenRejected': '令牌无效或已失效，请重新登录。（{msg}）',
  'session.ended': '请重新登录。（{msg}）',
  'session.signedOut': '已退出。',
  'session.breakglass': '应急令牌',
  'session.reviewOff': '审核已关闭：内容修改将立即发布到屏幕',
  'session.noAccess': '你的角色没有权限查看此页面。',

  // common
  'common.refresh': '刷新', 'common.save': '保存', 'common.cancel': '取消', 'common.create': '创建',
  'common.edit': '编辑', 'common.delete': '删除', 'common.confirmDelete': '确认删除？',
  'common.none': '（无）', 'common.loading': '加载中…', 'common.never': '从未',
  'common.yes': '是', 'common.no': '否', 'common.back': '返回',

  // change sets
  'cs.savedTo': '已保存到变更集', 'cs.pending': '（待提交审核）',
  'cs.state.open': '未提交', 'cs.state.submitted': '待审核', 'cs.state.approved': '已批准',
  'cs.state.rejected': '已驳回', 'cs.state.discarded': '已放弃',
  'cs.action.create': '新建', 'cs.action.update': '修改', 'cs.action.delete': '删除', 'cs.action.set_default': '设为默认',
  'cs.kind.item': '内容', 'cs.kind.playlist': '播放列表', 'cs.kind.schedule': '排期', 'cs.kind.screen': '屏幕', 'cs.kind.group': '分组',
  'cs.title': '变更/审核',
  'cs.mine': '我的变更集（未提交）',
  'cs.mineHint': '你对内容、播放列表和排期的修改会先收进这里；提交后由审核员批准，批准后才会发布到屏幕。',
  'cs.noOpen': '没有未提交的修改。',
  'cs.titleLabel': '标题', 'cs.saveTitle': '保存标题', 'cs.titleSaved': '标题已保存。',
  'cs.submit': '提交审核', 'cs.discard': '放弃修改', 'cs.confirmDiscard': '确认放弃？',
  'cs.withdraw': '撤回提交', 'cs.confirmWithdraw': '确认撤回？',
  'cs.submitted': '已提交审核。', 'cs.discarded': '已放弃这组修改。',
  'cs.myHistory': '我提交的变更集',
  'cs.noHistory': '还没有提交过变更集。',
  'cs.queue': '待我审核',
  'cs.queueHint': '其他人提交的变更集；批准后立即发布到屏幕。',
  'cs.noQueue': '没有等待审核的变更集。',
  'cs.open': '查看', 'cs.review': '审核',
  'cs.changes': '修改内容', 'cs.noChanges': '这组变更没有修改。',
  'cs.ops': '{n} 项修改',
  'cs.field': '字段', 'cs.before': '修改前', 'cs.after': '修改后',
  'cs.created': '（新建）', 'cs.deleted': '（已删除）',
  'cs.reach': '影响范围', 'cs.reachN': '{n} 块屏幕的播放内容会改变', 'cs.reachNone': '不影响任何屏幕当前的播放内容。',
  'cs.conflicts': '冲突', 'cs.conflictsHint': '内容在提交后已被他人修改，批准会失败；请作者放弃后重新修改。',
  'cs.approve': '批准并发布', 'cs.reject': '驳回', 'cs.rejectComment': '驳回理由（必填）',
  'cs.needComment': '驳回时请填写理由，作者会看到。',
  'cs.approved': '已批准，正在发布到屏幕。', 'cs.rejected': '已驳回。',
  'cs.selfReview': '这是你自己的变更集：须由其他审核员审核。',
  'cs.waiting': '已提交，等待审核员审核；批准后才会发布到屏幕。',
  'cs.author': '作者', 'cs.state': '状态', 'cs.updated': '更新', 'cs.submittedAt': '提交于', 'cs.decided': '审核',
  'cs.comment': '审核意见', 'cs.by': '审核人',
  'cs.failed': '操作失败：{msg}',
  'cs.conflictFail': '发布失败：内容在提交后已被修改（冲突），未发布任何内容。{msg}',

  // item fields, for diffs
  'field.kind': '类型', 'field.title': '标题', 'field.body': '正文', 'field.duration_s': '时长（秒）',
  'field.asset': '媒体', 'field.name': '名称', 'field.items': '内容（按顺序）', 'field.playlist': '播放列表',
  'field.target': '目标', 'field.cron': '时段规则', 'field.from': '开始于', 'field.to': '结束于',
  'field.priority': '优先级', 'field.default_playlist': '默认播放列表', 'field.group': '分组', 'field.tags': '标签',

  // account
  'me.title': '我的账户',
  'me.profile': '账户信息', 'me.role': '角色', 'me.groups': '分组范围', 'me.allGroups': '全部屏幕',
  'me.urgent': '可直接发送紧急通知', 'me.lastSignIn': '上次登录',
  'me.password': '修改密码', 'me.current': '当前密码', 'me.new': '新密码', 'me.repeat': '再次输入新密码',
  'me.newHint': '至少 12 个字符。修改后你在其他设备上的登录会失效。',
  'me.mismatch': '两次输入的新密码不一致。', 'me.tooShort': '新密码至少 12 个字符。',
  'me.passwordChanged': '密码已修改。',
  'me.totp': '两步验证（动态验证码）',
  'me.totpOn': '已开启：登录时需要输入身份验证器中的动态验证码。',
  'me.totpOff': '未开启。开启后，登录时除密码外还需要手机身份验证器中的动态验证码。',
  'me.totpStart': '开启两步验证',
  'me.totpScan': '用身份验证器应用（如 Google Authenticator、Microsoft Authenticator）扫描二维码，或手动输入密钥，然后填写应用显示的 6 位数字确认。',
  'me.totpSecret': '密钥', 'me.totpCode': '验证码', 'me.totpConfirm': '确认开启',
  'me.totpEnabled': '两步验证已开启。',
  'me.totpDisable': '关闭两步验证', 'me.totpDisablePw': '输入密码以关闭',
  'me.totpDisabled': '两步验证已关闭。',
  'me.totpPolicy': '你的角色必须使用两步验证，不能关闭。',
  'me.tokens': '个人 API 令牌',
  'me.tokensHint': '供脚本和自动化使用，以 Authorization: Bearer 发送，权限同你的角色（或只读）。',
  'me.tokenName': '名称', 'me.tokenRole': '权限', 'me.tokenCreate': '创建令牌',
  'me.tokenOnce': '新令牌只显示这一次，请立即复制保存：',
  'me.copy': '复制', 'me.copied': '已复制', 'me.copyFailed': '无法复制，请手动选中复制。',
  'me.lastUsed': '最后使用', 'me.createdAt': '创建', 'me.revoke': '吊销', 'me.confirmRevoke': '确认吊销？',
  'me.noTokens': '还没有令牌。', 'me.needName': '请为令牌起个名字。',
  'me.mfaRequired': '你的角色必须开启两步验证：请先在下面开启，之后才能使用其他页面。',
  'me.breakglass': '你正在使用应急管理员令牌登录，它没有个人账户。',

  // users
  'users.title': '用户管理',
  'users.new': '新建用户', 'users.edit': '编辑用户',
  'users.username': '用户名', 'users.password': '初始密码', 'users.passwordHint': '至少 12 个字符；请用户登录后自行修改。',
  'users.role': '角色', 'users.groups': '分组范围', 'users.groupsHint': '不选 = 全部屏幕；选了则只能查看和操作这些分组（含子分组）的屏幕。',
  'users.urgent': '允许直接发送紧急通知（无需审核）',
  'users.list': '全部用户', 'users.status': '状态', 'users.active': '正常', 'users.disabled': '已停用',
  'users.totp': '两步验证', 'users.lastSignIn': '上次登录',
  'users.disable': '停用', 'users.enable': '启用', 'users.confirmDisable': '确认停用？',
  'users.resetPw': '重置密码', 'users.newPw': '新密码', 'users.setPw': '设置',
  'users.resetMfa': '重置两步验证', 'users.confirmResetMfa': '确认重置？',
  'users.created': '已创建用户「{name}」。', 'users.saved': '已保存「{name}」。',
  'users.pwReset': '已重置「{name}」的密码，其登录已失效。', 'users.mfaReset': '已重置「{name}」的两步验证。',
  'users.nowDisabled': '已停用「{name}」：其登录和令牌立即失效。', 'users.nowEnabled': '已启用「{name}」。',
  'users.needUsername': '请填写用户名。', 'users.none': '还没有用户。', 'users.allScreens': '全部',

  // audit
  'audit.title': '审计日志', 'audit.time': '时间', 'audit.actor': '操作人', 'audit.action': '操作',
  'audit.target': '对象', 'audit.status': '结果', 'audit.ip': '地址', 'audit.none': '没有记录。',

  // urgent
  'urgent.by': '发送人',

  // pairing a screen (fleet page)
  'pair.title': '添加屏幕',
  'pair.hint': '新屏幕接通电源后，画面上会显示 8 位配对码（10 分钟内有效，过期自动更换）。输入配对码、填写屏幕信息即可添加；播放器随后自动开始同步内容。',
  'pair.mode.code': '输入配对码', 'pair.mode.token': '脚本安装：直接创建并获取令牌',
  'pair.code': '配对码', 'pair.codeHint': '即屏幕上显示的 8 位字符；不区分大小写，空格可省略。',
  'pair.name': '名称', 'pair.group': '分组', 'pair.noGroup': '（无分组）',
  'pair.tags': '标签', 'pair.tagsHint': '用逗号分隔，如：大厅, 室内',
  'pair.orientation': '屏幕方向', 'pair.orientationUnset': '未指定', 'pair.landscape': '横屏', 'pair.portrait': '竖屏',
  'pair.timezone': '时区', 'pair.timezoneHint': '留空则沿用分组的时区，或默认的北京时间（Asia/Shanghai）。',
  'pair.repair': '重新配对已有屏幕', 'pair.repairNone': '否，添加为新屏幕',
  'pair.repairHint': '更换硬件或重装系统后选择原屏幕：保留其编号、历史、播放记录和排期，旧设备的令牌立即失效。',
  'pair.submit': '配对', 'pair.create': '创建并显示令牌',
  'pair.tokenHint': '用于脚本安装（kiosk-player -token）：令牌只显示这一次，请立即复制保存。',
  'pair.needCode': '请输入屏幕上显示的配对码。', 'pair.needName': '请填写屏幕名称。',
  'pair.done': '已添加屏幕「{name}」，播放器几秒内开始同步：',
  'pair.redone': '已重新配对屏幕「{name}」，旧设备已停用：',
  'pair.created': '已创建屏幕「{name}」，令牌见下方（只显示这一次）：',
  'pair.unknown': '没有屏幕在等待这个配对码，或配对码已过期。请核对屏幕上当前显示的配对码。',
  'pair.tooMany': '错误的配对码太多，请 {secs} 秒后再试。',
  'pair.failed': '操作失败：{msg}',

  // schedules: weekdays and times instead of cron (schedules.js, dayparts.js)
  'sched.when': '时段', 'sched.allDay': '全天', 'sched.byDays': '按星期和时间',
  'sched.everyday': '每天', 'sched.workdays': '工作日', 'sched.weekend': '周末',
  'sched.day.1': '周一', 'sched.day.2': '周二', 'sched.day.3': '周三', 'sched.day.4': '周四',
  'sched.day.5': '周五', 'sched.day.6': '周六', 'sched.day.0': '周日', 'sched.daySep': '、',
  'sched.dayShort.1': '一', 'sched.dayShort.2': '二', 'sched.dayShort.3': '三', 'sched.dayShort.4': '四',
  'sched.dayShort.5': '五', 'sched.dayShort.6': '六', 'sched.dayShort.0': '日',
  'sched.days': '星期', 'sched.start': '开始', 'sched.end': '结束',
  'sched.timeHint': '24 小时制，按屏幕时区（默认北京时间）。',
  'sched.nextDay': '次日 {time}',
  'sched.overnight': '结束早于开始：跨过午夜，到次日 {time} 结束。',
  'sched.sameTime': '结束等于开始：每次持续整 24 小时。',
  'sched.rule': '规则', 'sched.allDayRule': '全天有效',
  'sched.advanced': '高级', 'sched.rawRule': '原始规则：{cron}，每次 {dur}',
  'sched.cannotShow': '上面的星期和时间无法表示此规则（{cron}），已按原样显示在“高级”中；不改动则按原样保存。',
  'sched.needDay': '请至少选择一天。',
  // the page itself (app.js, kit.js)
  'app.title': '信息屏管理', 'app.brand': '信息屏管理',
  'lang.switchTo': 'English', 'lang.switchTitle': 'Switch the page to English',
  'signin.title': '登录', 'signin.tokenSubmit': '使用令牌登录',
  'page.notFound': '没有这个页面。', 'page.backToFleet': '返回设备总览',
  'state.none': '首次连接前', 'state.unknown': '未知',
  'time.justNow': '刚刚', 'time.beijing': '{time}（北京时间）',
  'dur.s': '{s} 秒', 'dur.m': '{m} 分钟', 'dur.hm': '{h} 小时 {m} 分', 'dur.dh': '{d} 天 {h} 小时',
  'version.title': '已应用：{applied}\n已发布：{published}',
  'urgent.tag': '紧急',
  'media.thumbnail': '缩略图', 'media.video': '视频', 'media.media': '媒体', 'media.loadFailed': '无法加载',
  'common.refreshFailed': '刷新失败：{msg}',
  'draft.create': '草稿', 'draft.update': '已修改', 'draft.delete': '待删除', 'draft.title': '{cs} · 未发布',
  'err.network': '无法连接服务器：{detail}', 'err.withDetail': '{text}（{detail}）',

  // enumerations the server sends (label(prefix, value))
  'kind.legal_story': '法律故事', 'kind.notice': '服务信息', 'kind.psa': '公益广告',
  'cmd.identify': '识别', 'cmd.reload': '刷新页面', 'cmd.resync': '校验缓存', 'cmd.screenshot': '截图',
  'cmd.clear-cache': '清除缓存', 'cmd.restart': '重启播放器',
  'cmdStatus.queued': '排队中', 'cmdStatus.delivered': '已送达', 'cmdStatus.done': '完成', 'cmdStatus.failed': '失败', 'cmdStatus.expired': '已过期',
  'urgentStatus.active': '生效中', 'urgentStatus.expired': '已过期', 'urgentStatus.withdrawn': '已撤回',
  'alertKind.offline': '离线', 'alertKind.stale': '内容滞后', 'alertKind.degraded': '异常', 'alertKind.recovered': '已恢复', 'alertKind.mixed': '多种',
  'delivery.pending': '待发送', 'delivery.delivered': '已送达', 'delivery.failed': '发送失败',

  // ---- area: screens and groups (screens.js, fleet.js, screen.js) ----
  // ---- end: screens and groups ----

  // ---- area: media and content (media.js, items.js, playlists.js) ----
  // ---- end: media and content ----

  // ---- area: preview and layouts (preview.js) ----
  // ---- end: preview and layouts ----

  // ---- area: calendar and reports (calendar.js, reports.js, schedules.js) ----
  // ---- end: calendar and reports ----

  // ---- area: the rest (urgent, safe mode, review, users, audit, webhooks, errors) ----
  // ---- end: the rest ----
};
