// The English error texts of the admin page: err.<code> for every code
// the API answers a refusal with (read by kit.js errorText; {detail} is
// the server's English sentence; i18n_test.go fails when one is
// missing), and the page's own error messages. Part of the English
// catalogue, kept apart from messages.en.js by what it holds; i18n.js
// joins the two. Same keys as messages.errors.zh.js. Values are plain
// text with {name} placeholders, never markup.

export default {
  'err.network': 'Cannot reach the server: {detail}', 'err.withDetail': '{text} ({detail})',
  'err.group_exists': 'A group with this ID exists already; choose another ID.',
  'err.group_in_use': 'Cannot delete: sub-groups, screens or schedules still use this group ({detail}).',
  'err.f.sort': 'Order', 'err.f.offset': 'Page',
  'err.bad_cursor': 'The list changed its order or the link is old; start again from the first page.',
  'err.f.limit': 'Page size', 'err.f.q': 'Search', 'err.f.cursor': 'Page', 'err.f.state': 'State', 'err.f.id': 'Screens',
  'err.bad_request': 'The request is wrong ({detail})', 'err.unauthorized': 'Please sign in.', 'err.forbidden': 'Your role may not do this.',
  'err.not_found': 'Not found; it may have been deleted.', 'err.method_not_allowed': 'This operation is not supported.',
  'err.asset_in_use': 'This file is in use and cannot be deleted ({detail})',
  'err.conflict': 'Conflicts with what is there ({detail})', 'err.too_large': 'Too large ({detail})',
  'err.unsupported_media_type': 'This kind of file is not supported.', 'err.too_many_requests': 'Too many requests; try again shortly.',
  'err.unavailable': 'The server cannot do this now ({detail})', 'err.disk_full': "The server's disk is full, so nothing can be saved; ask an administrator to free space.",
  'err.internal': 'Internal server error; try again later or ask an administrator.',
  'err.invalid_field': '{field} is not valid', 'err.invalidInput': 'The input is not valid',
  'err.self_approval': 'You cannot review your own change set; another reviewer must.',
  'err.breakglass': 'The break-glass token cannot do this.', 'err.build_refused': 'The player build failed its checks ({detail})',
  'err.part_header_too_large': 'The upload form header is too large.', 'err.last_admin': 'This is the last administrator; they cannot be demoted or disabled.',
  'err.self_disable': 'You cannot disable your own account.', 'err.totp_enabled': 'Two-step verification is already on.',
  'err.totp_not_enrolling': 'Press "Turn on" first, then enter the code.', 'err.account_disabled': 'This account is disabled.',
  'err.bad_credentials': 'Wrong username or password.', 'err.csrf': 'The page is out of date; reload it and try again.',
  'err.mfa_enrolment_required': 'Your role must switch on two-step verification first.', 'err.not_author': 'Only the author may do this.',
  'err.out_of_scope': 'That is outside the screens you look after.', 'err.totp_required_by_policy': 'Your role must use two-step verification; it cannot be switched off.',
  'err.pairing_gone': 'The pairing code expired; get a new one from the screen.', 'err.pairing_code_unknown': 'No screen is waiting with this code, or it expired.',
  'err.body_timeout': 'The upload was too slow and timed out.', 'err.no_release_key': 'The server has no release key, so players cannot be updated.',
  'err.pairing_full': 'Too many screens are waiting to pair; try again shortly.', 'err.too_many_attempts': 'Too many attempts; try again later.',
  'err.invalid_token': 'The token is not valid.', 'err.pair_proof': "The device's signature did not verify.", 'err.pair_time_skew': "The device's clock is too far off.",
  'err.session_expired': 'Your session expired; sign in again.', 'err.totp_required': 'Enter the code from your authenticator.',
  'err.field.required': '{field}: required', 'err.field.too_long': '{field}: at most {limit} characters',
  'err.field.out_of_range': '{field}: must be between {min} and {limit}', 'err.field.unknown_reference': '{field}: refers to something that does not exist',
  'err.field.invalid_format': '{field}: not in the right form',
  'err.f.expires_at': 'Expiry', 'err.f.url': 'URL', 'err.f.secret': 'Signing secret', 'err.f.events': 'Alerts to send',
  'err.f.username': 'Username', 'err.f.password': 'Password', 'err.f.role': 'Role', 'err.f.groups': 'Groups', 'err.f.timezone': 'Time zone',
  'err.f.code': 'Code', 'err.f.comment': 'Comment', 'err.f.since': 'Start date', 'err.f.until': 'End date', 'err.f.parent': 'Parent group',
  'err.f.screen': 'Screen', 'err.f.percent': 'Share', 'err.f.ttl_s': 'Lifetime',
  'err.cmdFailed': '{cmd}: failed', 'err.cmdFailedWhy': '{cmd}: failed ({error})',
  'err.cmdExpired': '{cmd}: the screen did not answer in time; expired', 'err.cmdStatus': '{cmd}: {status}',
  'err.import_row': 'Import refused, no screen was created: {detail}',
};
