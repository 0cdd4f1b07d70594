// Message catalogues of the admin page: Chinese first, English as the
// secondary line. A key missing from en falls back to zh. Values are plain
// text, filled with {name} placeholders by t; nothing here is markup.

export const zh = {
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
  'signin.needToken': '请输入令牌。Enter the token.',
  'signin.bad': '用户名或密码不正确。',
  'signin.totpNeeded': '请输入身份验证器中的动态验证码。',
  'signin.totpWrong': '动态验证码不正确，请重新输入。',
  'signin.tooMany': '尝试次数过多，请 {secs} 秒后再试。',
  'signin.tooManySoon': '尝试次数过多，请稍后再试。',
  'signin.tokenBad': '令牌不正确。Token rejected — {msg}',
  'signin.failed': '无法登录：{msg}',
  'session.expired': '会话已过期，请重新登录',
  'session.tokenRejected': '令牌无效或已失效，请重新登录。Token rejected — {msg}',
  'session.ended': '请重新登录。Signed out — {msg}',
  'session.signedOut': '已退出。Signed out.',
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
};

export const en = {
  'role.admin': 'admin', 'role.reviewer': 'reviewer', 'role.editor': 'editor', 'role.technician': 'technician', 'role.viewer': 'viewer',
  'nav.fleet': 'Fleet', 'nav.items': 'Items', 'nav.playlists': 'Playlists', 'nav.schedules': 'Schedules',
  'nav.review': 'Review', 'nav.urgent': 'Urgent', 'nav.alerts': 'Alerts', 'nav.safeMode': 'Safe mode', 'nav.users': 'Users',
  'nav.audit': 'Audit', 'nav.account': 'My account', 'nav.signout': 'Sign out',
  'nav.releases': 'Player versions',

  'rel.title': 'Player versions', 'rel.refreshed': 'updated',
  'rel.versions': 'Versions across the fleet', 'rel.version': 'Version', 'rel.screens': 'Screens', 'rel.online': 'Online',
  'rel.upload': 'Upload a signed player', 'rel.binary': 'Player binary', 'rel.manifest': 'Signed manifest (JSON)', 'rel.uploadSubmit': 'Upload',
  'rel.builds': 'Uploaded players', 'rel.platform': 'Platform', 'rel.size': 'Size', 'rel.sha': 'SHA-256', 'rel.key': 'Signing key',
  'rel.uploadedAt': 'Uploaded', 'rel.uploadedBy': 'By',
  'rel.start': 'Roll out a new version', 'rel.build': 'Version', 'rel.canary': 'Canary groups', 'rel.percent': 'Second wave (%)',
  'rel.startSubmit': 'Start roll-out', 'rel.rollouts': 'Roll-outs', 'rel.current': 'Roll-out',
  'rel.state': 'State', 'rel.coverage': 'Other screens offered', 'rel.createdBy': 'Started by', 'rel.createdAt': 'Started',
  'rel.pause': 'Pause', 'rel.resume': 'Resume', 'rel.advance': 'Advance to the next wave',
  'rel.progress': 'Progress per screen', 'rel.screen': 'Screen', 'rel.group': 'Group', 'rel.running': 'Running', 'rel.error': 'Reason', 'rel.updatedAt': 'Updated',

  'signin.username': 'Username', 'signin.password': 'Password', 'signin.totp': 'Authenticator code',
  'signin.totpHint': 'Enter the 6 digits your authenticator app shows.',
  'signin.submit': 'Sign in', 'signin.withToken': 'sign in with a token',
  'signin.tokenHint': "The break-glass admin token or a personal API token. It is kept in this tab's session storage only.",
  'signin.token': 'Token',
  'signin.needUser': 'Enter your username and password.',
  'signin.bad': 'Wrong username or password.',
  'signin.totpNeeded': 'Enter the code from your authenticator.',
  'signin.totpWrong': 'Wrong code; try again.',
  'signin.tooMany': 'Too many attempts; try again in {secs} s.',
  'signin.tooManySoon': 'Too many attempts; try again later.',
  'session.expired': 'session expired, please sign in again',
  'session.breakglass': 'break-glass token',
  'session.reviewOff': 'review is off',
  'session.noAccess': 'Your role may not see this page.',

  'common.refresh': 'Refresh', 'common.save': 'Save', 'common.cancel': 'Cancel', 'common.create': 'Create',
  'common.edit': 'Edit', 'common.delete': 'Delete', 'common.back': 'Back',

  'cs.savedTo': 'saved to change set', 'cs.pending': 'pending submission for review',
  'cs.state.open': 'open', 'cs.state.submitted': 'submitted', 'cs.state.approved': 'approved',
  'cs.state.rejected': 'rejected', 'cs.state.discarded': 'discarded',
  'cs.action.create': 'create', 'cs.action.update': 'update', 'cs.action.delete': 'delete', 'cs.action.set_default': 'set default',
  'cs.kind.item': 'item', 'cs.kind.playlist': 'playlist', 'cs.kind.schedule': 'schedule', 'cs.kind.screen': 'screen', 'cs.kind.group': 'group',
  'cs.title': 'Review', 'cs.mine': 'My open change set',
  'cs.mineHint': 'Your content changes collect here; a reviewer approves them before screens show them.',
  'cs.noOpen': 'No unsubmitted changes.',
  'cs.titleLabel': 'Title', 'cs.saveTitle': 'Save title',
  'cs.submit': 'Submit for review', 'cs.discard': 'Discard', 'cs.withdraw': 'Withdraw',
  'cs.myHistory': 'My change sets', 'cs.queue': 'Review queue',
  'cs.open': 'Open', 'cs.review': 'Review',
  'cs.changes': 'Changes', 'cs.field': 'Field', 'cs.before': 'Before', 'cs.after': 'After',
  'cs.reach': 'Reach', 'cs.conflicts': 'Conflicts',
  'cs.approve': 'Approve and publish', 'cs.reject': 'Reject', 'cs.rejectComment': 'Reason, required',
  'cs.author': 'Author', 'cs.state': 'State', 'cs.updated': 'Updated', 'cs.submittedAt': 'Submitted', 'cs.decided': 'Decided',
  'cs.comment': 'Comment', 'cs.by': 'Reviewer',

  'me.title': 'My account', 'me.profile': 'Profile', 'me.role': 'Role', 'me.groups': 'Groups', 'me.lastSignIn': 'Last sign-in',
  'me.password': 'Change password', 'me.current': 'Current password', 'me.new': 'New password', 'me.repeat': 'Repeat new password',
  'me.totp': 'Two-step verification (TOTP)', 'me.totpStart': 'Turn on', 'me.totpSecret': 'Secret', 'me.totpCode': 'Code',
  'me.totpConfirm': 'Confirm', 'me.totpDisable': 'Turn off', 'me.totpDisablePw': 'Password to turn off',
  'me.tokens': 'Personal API tokens', 'me.tokenName': 'Name', 'me.tokenRole': 'Role', 'me.tokenCreate': 'Create token',
  'me.copy': 'Copy', 'me.lastUsed': 'Last used', 'me.createdAt': 'Created', 'me.revoke': 'Revoke',

  'users.title': 'Users', 'users.new': 'New user', 'users.edit': 'Edit user', 'users.username': 'Username',
  'users.password': 'Initial password', 'users.role': 'Role', 'users.groups': 'Groups', 'users.urgent': 'may send urgent notices without review',
  'users.list': 'All users', 'users.status': 'Status', 'users.totp': 'TOTP', 'users.lastSignIn': 'Last sign-in',
  'users.disable': 'Disable', 'users.enable': 'Enable', 'users.resetPw': 'Reset password', 'users.resetMfa': 'Reset MFA',

  'audit.title': 'Audit log', 'audit.time': 'Time', 'audit.actor': 'Actor', 'audit.action': 'Action',
  'audit.target': 'Target', 'audit.status': 'Status', 'audit.ip': 'Address',
  'urgent.by': 'Sent by',

  'pair.title': 'Pair a screen', 'pair.mode.code': 'pairing code', 'pair.mode.token': 'scripted install: create with a token',
  'pair.code': 'Pairing code', 'pair.name': 'Name', 'pair.group': 'Group', 'pair.tags': 'Tags',
  'pair.orientation': 'Orientation', 'pair.landscape': 'landscape', 'pair.portrait': 'portrait', 'pair.timezone': 'Time zone',
  'pair.repair': 'Re-pair an existing screen', 'pair.submit': 'Pair', 'pair.create': 'Create and show token',
  'pair.needCode': 'Enter the code the screen shows.', 'pair.needName': 'Name the screen.',
  'pair.unknown': 'No screen is waiting with this code, or it expired.',

  'sched.when': 'When', 'sched.allDay': 'all day', 'sched.byDays': 'weekdays and times',
  'sched.everyday': 'Every day', 'sched.workdays': 'Weekdays', 'sched.weekend': 'Weekend',
  'sched.day.1': 'Mon', 'sched.day.2': 'Tue', 'sched.day.3': 'Wed', 'sched.day.4': 'Thu',
  'sched.day.5': 'Fri', 'sched.day.6': 'Sat', 'sched.day.0': 'Sun', 'sched.daySep': ', ',
  'sched.dayShort.1': 'Mo', 'sched.dayShort.2': 'Tu', 'sched.dayShort.3': 'We', 'sched.dayShort.4': 'Th',
  'sched.dayShort.5': 'Fr', 'sched.dayShort.6': 'Sa', 'sched.dayShort.0': 'Su',
  'sched.days': 'Days', 'sched.start': 'Start', 'sched.end': 'End',
  'sched.timeHint': "24-hour clock, in the screen's time zone (Beijing time unless set).",
  'sched.nextDay': '{time} next day',
  'sched.overnight': 'The end is before the start: the window crosses midnight and ends at {time} the next day.',
  'sched.sameTime': 'The end equals the start: each window lasts 24 hours.',
  'sched.rule': 'Rule', 'sched.allDayRule': 'all day',
  'sched.advanced': 'advanced', 'sched.rawRule': 'raw rule: {cron}, {dur} each',
  'sched.cannotShow': 'The days and times above cannot show this rule ({cron}); it is shown as is under advanced and saved unchanged unless you change it.',
  'sched.needDay': 'Choose at least one day.',
};

function fill(s, vars) {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

// t is the Chinese text of key; tEn its English, or '' when it has none.
export const t = (key, vars) => fill(zh[key] ?? key, vars);
export const tEn = (key, vars) => (key in en ? fill(en[key], vars) : '');

// Labels the server's enumerations show as; the English is the value itself.
export const STATE_LABEL = { online: '在线', stale: '内容滞后', degraded: '异常', offline: '离线' };
export const COMMAND_LABEL = {
  identify: '识别', reload: '刷新页面', resync: '校验缓存', screenshot: '截图',
  'clear-cache': '清除缓存', restart: '重启播放器',
};
export const COMMAND_STATUS = { queued: '排队中', delivered: '已送达', done: '完成', failed: '失败', expired: '已过期' };
export const URGENT_STATUS = { active: '生效中', expired: '已过期', withdrawn: '已撤回' };
export const ALERT_KIND = { offline: '离线', stale: '内容滞后', degraded: '异常', recovered: '已恢复', mixed: '多种' };
export const DELIVERY_STATUS = { pending: '待发送', delivered: '已送达', failed: '发送失败' };
export const ITEM_KIND = { legal_story: '法律故事', notice: '服务信息', psa: '公益广告' };
export const ROLES = ['admin', 'reviewer', 'editor', 'technician', 'viewer'];
export const CS_STATES = ['open', 'submitted', 'approved', 'rejected', 'discarded'];
