/**
 * Every message the server says to a person, as a code with parameters
 * (issue 17). The server keeps writing its English text (logs, API users,
 * tests match it); `server/src/http/message-codes.ts` recognises each text by
 * the template below and adds `code` and `params` to what it sends, and the
 * console translates the code (zh-CN and English, `client/src/serverMessages.ts`,
 * which must hold a translation for every code here: the compiler checks).
 *
 * Like contract.ts: constants and types only, no runtime imports, so the
 * client bundle can import it.
 *
 * Templates: `{name}` is a parameter and matches any text (shortest first);
 * the rest must match exactly. Order matters only where two templates could
 * match the same text: the first wins.
 */
export const SERVER_MESSAGES = {
  // ---- any field (zod's own issues are coded by their kind, see zodFields)
  required: 'required',
  unknown_field: 'unknown field',
  invalid_format: 'has the wrong format',
  too_short: 'at least {min} characters',
  too_long: 'at most {max} characters',
  too_few_items: 'at least {min} items',
  too_many_items: 'at most {max} items',
  integer: 'must be an integer',
  // ---- the text policy (server/src/http/text.ts)
  text_type: 'must be text',
  text_control: 'must not contain control characters',
  text_bidi: 'must not contain bidirectional control characters',
  text_surrogate: 'must not contain unpaired surrogates',
  text_blank: 'must not be empty',
  text_spaces: 'must not contain spaces or control characters',
  // ---- bodies and requests
  malformed_json: 'malformed JSON',
  body_too_large: 'larger than the limit',
  body_encoding: 'unsupported encoding',
  body_not_utf8: 'not valid UTF-8',
  body_charset: 'charset must be UTF-8',
  content_type_json: 'Content-Type must be application/json',
  content_type_image: 'Content-Type must be image/jpeg or image/png',
  bad_cursor: 'not a cursor this server issued',
  // ---- positions and places
  lon_range: 'longitude must be between -180 and 180',
  lat_range: 'latitude must be between -90 and 90',
  zero_position: '0,0 is the position of a device without a fix',
  position_range: 'position is out of range after conversion to WGS-84',
  bbox: 'must be minLon,minLat,maxLon,maxLat within WGS-84 range',
  direction_range: 'must be 0–360 degrees',
  fov_min: 'must be more than 0 degrees',
  fov_max: 'at most 360 degrees',
  gb_code: 'must be a 20-digit GB/T 28181 code',
  position_or_camera: 'position or cameraId is required',
  position_or_org: 'a position or an orgUnitId is required',
  // ---- addresses
  url_invalid: 'not a valid {label} URL',
  url_scheme: 'scheme must be one of {schemes}',
  url_host: 'must name a host',
  stream_refused: 'stream address refused: {reason}',
  scan_ranges_missing: 'give at least one address range',
  scan_address: 'give host, host:port or a device service URL',
  scan_range_size: '"{range}" holds {count} addresses; at most {max} per scan',
  scan_total_size: '{count} addresses; at most {max} per scan',
  scan_range_invalid: '"{range}" is not an IPv4 address, block (a.b.c.d/nn) or range (a.b.c.d-a.b.c.e)',
  scan_block_invalid: '"{range}" is not an IPv4 block between /8 and /32',
  scan_span_invalid: '"{range}" is not an IPv4 range',
  scan_interface: 'not a configured discovery interface ({interfaces})',
  scan_credentials_max: 'at most 5 credential pairs',
  // ---- jurisdiction, permission, existence
  org_out_of_scope: 'org unit is not in your jurisdiction',
  out_of_scope: 'outside your jurisdiction',
  out_of_this_scope: 'outside this jurisdiction',
  no_such_org: 'no such org unit in your jurisdiction',
  no_such_camera: 'no such camera',
  no_such_camera_here: 'no such camera in this jurisdiction',
  camera_not_found: 'camera {id} not found',
  camera_outside_screen: "camera {id} is outside the screen's jurisdiction",
  role_may_not: 'your role may not {permission}',
  login_required: 'login required',
  // ---- accounts
  username_format: '3-32 letters, digits, _ . or -',
  already_taken: 'already taken',
  wrong_password: 'wrong password',
  wrong_credentials: 'wrong username or password',
  not_own_account: 'not on your own account',
  own_account: 'you cannot disable yourself or change your own role',
  kiosk_no_password: 'a kiosk account has no password',
  kiosk_not_for: 'not for a kiosk account',
  kiosk_token_bad: 'the kiosk token is unknown or revoked',
  not_user_id: 'not a user id',
  rate_limited_login: 'too many failed logins; try again in {seconds} s',
  // ---- registry and import
  code_registered: 'already registered',
  import_interrupted: 'the import was interrupted and its rows removed; send the file again',
  unknown_network: 'unknown network "{network}"',
  version_stale: 'stale; the current version is {version}',
  version_stale_short: 'stale; current version is {version}',
  version_point: 'the point was changed by someone else; reload it',
  not_a_number: '"{value}" is not a number',
  not_yes_no: '"{value}" is not yes/no (是/否, 1/0)',
  unknown_column: 'unknown column',
  column_twice: 'column given twice (as "{header}")',
  column_missing: 'required column is missing',
  row_fields: 'has {count} fields, the header has {expected}',
  row_duplicate: 'duplicate of line {line} in this file',
  org_ambiguous: 'name "{name}" matches several org units; use the org unit code',
  unknown_crs: 'unknown coordinate system "{value}"; use wgs84, gcj02 or bd09',
  file_empty_header: 'the file is empty: a header row is required',
  file_empty: 'the file is empty',
  file_no_rows: 'the file has a header but no data rows',
  file_encoding: 'file is neither UTF-8 nor GBK/GB18030 text',
  csv_quote: 'unterminated quoted field',
  csv_after_quote: 'unexpected character after a closing quote',
  // ---- discovery (device reasons: what the device or the network did)
  device_not_authorised: 'not authorised: {detail}',
  device_registered_as: 'already registered as "{name}"',
  device_registered_here: 'device: already registered as a camera point',
  device_confirmed_meanwhile: 'device: confirmed by someone else meanwhile',
  device_cannot_confirm: 'device: cannot be confirmed while {status}; scan it again',
  device_no_credentials: 'no credentials given',
  device_mac_unknown: 'MAC unknown ({detail})',
  device_no_snapshot: 'no snapshot URI ({detail})',
  device_no_video: 'no video profile',
  device_http_401: 'HTTP 401 from device',
  device_not_onvif: 'HTTP {status} {type}: not an ONVIF service',
  device_not_soap: 'reply is XML but not a SOAP envelope',
  device_not_xml: 'reply is not XML',
  device_empty_soap: 'empty SOAP body',
  device_lacks: 'reply lacks {what}',
  device_refused: 'connection refused',
  device_timeout: 'timed out after {ms} ms',
  scan_restarted: 'the server restarted during the scan',
  // ---- live video and PTZ
  no_onvif_address: 'camera: no ONVIF address registered',
  no_stream_address: 'camera: no stream address registered',
  not_ptz: 'camera: not a PTZ camera',
  ptz_rate: 'too many PTZ commands; slow down',
  ptz_failed: 'PTZ command failed: {detail}',
  camera_no_answer: 'camera did not answer: {detail}',
  presets_failed: 'could not read presets: {detail}',
  preset_token: 'a preset token',
  unit_range: '{axis} must be between -1 and 1',
  live_unconfigured: 'live video is not configured on this server',
  snapshot_failed: 'snapshot failed: {detail}',
  no_picture: 'the camera gave no picture',
  // ---- video quality diagnosis and reports (issue 16)
  quality_sweep_running: 'a diagnosis sweep is running; wait for it to finish',
  quality_no_picture: 'the point has no usable picture yet; diagnose it first',
  diagnosis_unconfigured: 'picture diagnosis is not configured',
  pdf_font_missing: 'PDF reports need reports.pdfFont (a CJK font)',
  // ---- recording and playback (issue 14)
  range_empty: 'must be after from (the range is empty)',
  range_after_from: 'must be after from',
  range_future: 'must not be in the future',
  range_too_long: 'at most {max} after from',
  recording_unconfigured: 'recording is not configured on this server',
  no_recording: 'no recording in this range',
  plan_target: 'give a cameraId or an orgUnitId, not both',
  time_hhmm: 'a time like 08:30',
  recording_role: 'your role may not play recordings',
  device_no_onvif: 'the point has no ONVIF address to ask the camera for its recordings',
  device_no_profile_g: 'the camera does not offer playback of its own recordings (no ONVIF Profile G)',
  device_no_recording: 'the camera holds no recording in this range',
  device_unreachable: 'the camera did not answer about its recordings: {reason}',
  device_auth: 'the camera refused the stored user name or password',
  // ---- orders and walls
  order_closed: 'the order is closed',
  order_step_state: 'cannot {action} an order that is {state}',
  order_step_level: 'this step belongs to {who}',
  order_version: 'order {id} is at version {version}',
  order_top: 'the top level has no one to report to',
  order_attachments: 'the order has as many attachments as allowed',
  order_upload: 'no such upload of yours on this order',
  order_camera: 'not a camera linked to this order',
  alert_has_order: 'alert {alert} already has order {order}',
  alert_status: 'alert {alert} is {status}',
  push_lower: 'a push goes to a lower level, not your own',
  push_empty: 'push at least one camera or a layout',
  tour_empty: 'a tour needs at least one camera',
  tour_min: 'at least {min} s',
  tour_max: 'at most {max} s',
  grid_tiles: 'grid {grid} has {want} tiles, got {got}',
  date_format: 'a date like 2026-11-01',
  not_calendar: 'not a calendar date',
  before_from: 'must not be before from',
  instant: '{label} must be a date and time (ISO 8601)',
  // ---- admin pages (issue 17)
  network_id: '2-32 lower-case letters, digits, _ or -, starting with a letter',
  network_fixed: 'built in or configured',
  network_in_use: '{count} camera points are on this network',
  network_county: 'networks are county-wide: only a county admin may change them',
  audit_action: 'an action such as camera.update, or a family such as camera.*',
  audit_target: 'a target type such as camera',
  // ---- live video sources, shutdown, registry follow (issue 12: reasons a stream is not live)
  shutting_down: 'the server is shutting down; try again in a moment',
  credentials_unreadable: 'the stored camera password cannot be decrypted (the secret key has changed); enter it again',
  source_refused: 'connection refused by {where}',
  source_no_answer_within: 'no answer from {where} within {seconds} s',
  source_no_answer: 'no answer from {where}',
  source_no_route: 'no route to {where}',
  source_reset: 'connection reset by {where}',
  source_unresolved: 'cannot resolve {where}',
  source_closed: '{where} closed the connection',
  source_auth_failed: 'authentication failed: the camera refused the stored user name or password',
  source_needs_password: 'the camera asks for a password and none is stored',
  source_auth_scheme: 'the camera asks for an authentication scheme the platform does not speak',
  source_transport_refused: 'the camera refused RTSP over {transports} (461 Unsupported Transport)',
  source_setup_failed: 'SETUP over {transports} answered {status}',
  source_silent: 'the camera did not answer {method} within {seconds} s',
  source_not_rtsp: 'the camera sent something that is not RTSP ({detail})',
  source_http_status: '{where} answered HTTP {status}',
  stream_source_changed: 'source changed',
  stream_address_removed: 'stream address removed',
  stream_stale_why: 'stale output: no new segment for {seconds} s ({detail})',
  stream_stale: 'stale output: no new segment for {seconds} s',
  stream_no_output_why: 'no output within {seconds} s: {detail}',
  stream_no_output: 'no output within {seconds} s',
  stream_failed: 'stream failed: {detail}',
  stream_not_started: 'stream could not start: {detail}',
  // ---- stream tickets and the live socket (issue 15)
  stream_token_invalid: 'stream token {reason}; request a new one',
  ticket_not_yours: 'this stream ticket was issued to another session',
  stream_session_required: 'a stream plays only for the signed-in session that asked for it',
  live_session_required: 'the live socket needs a signed-in session',
  live_bad_message: 'not a live socket message: {detail}',
  live_unavailable: 'no live fMP4 for this stream; play HLS',
  live_too_many_tiles: 'at most {max} tiles on one live socket',
  // ---- storage (issue 13): the database went away while the server runs
  storage_unavailable: 'the database cannot be reached ({reason}); try again shortly',
  // ---- discovery: addresses a device reports (issue 12, item 2)
  uri_host_rebased: 'the device reports its streams at {reported}: rebased to {host}, the address that answered',
  uri_host_differs:
    'the device reports its streams at {reported}, not at {host} (the address that answered): the platform may not reach them',
  // ---- broad templates last: a specific one above wins for the same text
  invalid_type: 'must be {expected}',
  invalid_value: 'must be one of {values}',
  too_small_number: 'must be at least {min}',
  too_big_number: 'must be at most {max}',
  not_found: '{what} not found',
  device_http: 'HTTP {status}',
} as const;

export type ServerMessageCode = keyof typeof SERVER_MESSAGES;

/** A message as the console translates it: a code of SERVER_MESSAGES and its parameters. */
export interface CodedMessage {
  code: ServerMessageCode;
  params?: Record<string, string | number>;
}

const compiled: [ServerMessageCode, RegExp, string[]][] = (
  Object.entries(SERVER_MESSAGES) as [ServerMessageCode, string][]
).map(([code, template]) => {
  const names: string[] = [];
  const source = template
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name) {
        names.push(name);
        return '([\\s\\S]+?)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return [code, new RegExp(`^${source}$`), names];
});

/**
 * The code and parameters of a message the server wrote, or undefined when it
 * is not in SERVER_MESSAGES. A message may carry the field it is about in
 * front (`username: already taken`); that prefix is skipped.
 */
export function codeOfMessage(message: string): CodedMessage | undefined {
  const candidates = [message];
  const colon = /^[\w.[\]-]+: ([\s\S]+)$/.exec(message);
  if (colon?.[1]) candidates.push(colon[1]);
  for (const text of candidates) {
    for (const [code, re, names] of compiled) {
      const m = re.exec(text);
      if (!m) continue;
      if (!names.length) return { code };
      const params: Record<string, string | number> = {};
      names.forEach((name, i) => {
        const v = m[i + 1] ?? '';
        params[name] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
      });
      return { code, params };
    }
  }
  return undefined;
}
