// The Chinese error texts of the admin page: err.<code> for every code
// the API answers a refusal with (read by kit.js errorText; {detail} is
// the server's English sentence; i18n_test.go fails when one is
// missing), and the page's own error messages. Part of the Chinese
// catalogue, kept apart from messages.zh.js by what it holds; i18n.js
// joins the two. Same keys as messages.errors.en.js. Values are plain
// text with {name} placeholders, never markup.

export default {
  'err.network': '无法连接服务器：{detail}', 'err.withDetail': '{text}（{detail}）',
  'err.group_exists': '已有相同编号的分组，请换一个编号。',
  'err.group_in_use': '不能删除：该分组仍被下级分组、屏幕或排期使用（{detail}）。',
  'err.f.sort': '排序', 'err.f.offset': '页',
  'err.bad_cursor': '列表顺序已变或链接已过时，请从第一页重新开始。',
  'err.f.limit': '每页条数', 'err.f.q': '搜索', 'err.f.cursor': '页', 'err.f.state': '状态', 'err.f.id': '屏幕',
  'err.bad_request': '请求有误（{detail}）', 'err.unauthorized': '请先登录。', 'err.forbidden': '你的角色无权这样做。',
  'err.not_found': '找不到要操作的对象，可能已被删除。', 'err.method_not_allowed': '不支持这种操作。',
  'err.asset_in_use': '文件正在使用，不能删除（{detail}）',
  'err.conflict': '与现有数据冲突（{detail}）', 'err.too_large': '内容太大（{detail}）',
  'err.unsupported_media_type': '不支持这种文件类型。', 'err.too_many_requests': '操作太频繁，请稍后再试。',
  'err.unavailable': '服务器暂时无法处理（{detail}）', 'err.disk_full': '服务器磁盘已满，暂时无法保存；请联系管理员腾出空间。',
  'err.internal': '服务器内部错误，请稍后再试或联系管理员。',
  'err.invalid_field': '{field}填写有误', 'err.invalidInput': '输入有误',
  'err.self_approval': '不能审核自己提交的变更，需由另一位审核人审核。',
  'err.breakglass': '应急令牌不能做这个操作。', 'err.build_refused': '播放器安装包未通过检查（{detail}）',
  'err.part_header_too_large': '上传的表单头太大。', 'err.last_admin': '这是最后一位管理员，不能降级或停用。',
  'err.self_disable': '不能停用自己的账号。', 'err.totp_enabled': '两步验证已开启。',
  'err.totp_not_enrolling': '请先点“开启”，再输入验证码。', 'err.account_disabled': '账号已停用。',
  'err.bad_credentials': '用户名或密码错误。', 'err.csrf': '页面已过期，请刷新后重试。',
  'err.mfa_enrolment_required': '你的角色必须先开启两步验证。', 'err.not_author': '只有作者本人可以这样做。',
  'err.out_of_scope': '超出你负责的屏幕范围。', 'err.totp_required_by_policy': '你的角色必须使用两步验证，不能关闭。',
  'err.pairing_gone': '配对码已过期，请在屏幕上获取新码。', 'err.pairing_code_unknown': '没有屏幕在等待这个配对码，或已过期。',
  'err.body_timeout': '上传太慢，已超时。', 'err.no_release_key': '服务器未配置发布密钥，不能升级播放器。',
  'err.pairing_full': '等待配对的屏幕太多，请稍后再试。', 'err.too_many_attempts': '尝试次数太多，请稍后再试。',
  'err.invalid_token': '令牌无效。', 'err.pair_proof': '设备签名校验失败。', 'err.pair_time_skew': '设备时钟偏差过大。',
  'err.session_expired': '登录已过期，请重新登录。', 'err.totp_required': '请输入动态验证码。',
  'err.field.required': '{field}：必须填写', 'err.field.too_long': '{field}：最多 {limit} 个字',
  'err.field.out_of_range': '{field}：应在 {min} 到 {limit} 之间', 'err.field.unknown_reference': '{field}：引用的对象不存在',
  'err.field.invalid_format': '{field}：格式不对',
  'err.f.expires_at': '到期时间', 'err.f.url': '地址', 'err.f.secret': '签名密钥', 'err.f.events': '推送哪些告警',
  'err.f.username': '用户名', 'err.f.password': '密码', 'err.f.role': '角色', 'err.f.groups': '分组', 'err.f.timezone': '时区',
  'err.f.code': '验证码', 'err.f.comment': '意见', 'err.f.since': '开始日期', 'err.f.until': '结束日期', 'err.f.parent': '上级分组',
  'err.f.screen': '屏幕', 'err.f.percent': '比例', 'err.f.ttl_s': '有效时长',
  'err.cmdFailed': '{cmd}：执行失败', 'err.cmdFailedWhy': '{cmd}：执行失败（{error}）',
  'err.cmdExpired': '{cmd}：屏幕未在有效期内响应，已过期', 'err.cmdStatus': '{cmd}：{status}',
  'err.import_row': '导入被拒绝，没有创建任何屏幕：{detail}',
};
