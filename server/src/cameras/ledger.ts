/**
 * The point ledger (点位台账) as CSV: header aliases in English and in the
 * Chinese a county office's spreadsheet uses, row → API input, and the
 * export format (which re-imports as is).
 */
import type { CoordSystem, ImportRowError } from '../api/contract.ts';
import { CsvSyntaxError, csvLine, parseCsv } from '../csv/csv.ts';
import { TEXT_MESSAGES, checkText } from '../http/text.ts';
import { codeOfMessage } from '../api/messages.ts';
import type { OrgRepo } from '../org/repo.ts';
import type { Network } from './networks.ts';
import type { CameraPoint } from './repo.ts';

export const LEDGER_COLUMNS = [
  'code',
  'name',
  'network',
  'org_unit',
  'lon',
  'lat',
  'coord_system',
  'address',
  'direction',
  'fov',
  'onvif_url',
  'username',
  'password',
  'main_stream_uri',
  'sub_stream_uri',
  'ptz',
] as const;
type Column = (typeof LEDGER_COLUMNS)[number];
/** Written by export, ignored by import. */
const READ_ONLY = new Set(['id', 'status', '状态']);

const ALIASES: Record<Column, string[]> = {
  code: ['编码', '国标编码', '点位编码', '设备编码', 'gb_code'],
  name: ['名称', '点位名称', '设备名称', '摄像机名称'],
  network: ['网络', '所属网络', '所属系统', '系统', 'network_id'],
  org_unit: ['组织', '所属组织', '所属单位', '行政区划', '组织编码', '所属村社区', 'org', 'org_code'],
  lon: ['经度', 'longitude', 'lng'],
  lat: ['纬度', 'latitude'],
  coord_system: ['坐标系', 'crs', 'coordinate_system'],
  address: ['地址', '安装地址', '安装位置'],
  direction: ['方向', '朝向', '方位角'],
  fov: ['视场角', 'field_of_view'],
  onvif_url: ['onvif地址', 'onvif'],
  username: ['用户名', '账号'],
  password: ['密码'],
  main_stream_uri: ['主码流', '主码流地址', 'main_stream'],
  sub_stream_uri: ['子码流', '辅码流', '子码流地址', 'sub_stream'],
  ptz: ['云台', '是否云台', '是否球机'],
};

const HEADER_INDEX = new Map<string, Column>();
for (const c of LEDGER_COLUMNS) {
  HEADER_INDEX.set(c, c);
  for (const a of ALIASES[c]) HEADER_INDEX.set(a.toLowerCase(), c);
}

const CRS: Record<string, CoordSystem> = {
  wgs84: 'wgs84',
  'wgs-84': 'wgs84',
  gps: 'wgs84',
  wgs: 'wgs84',
  gcj02: 'gcj02',
  'gcj-02': 'gcj02',
  高德: 'gcj02',
  腾讯: 'gcj02',
  火星坐标: 'gcj02',
  amap: 'gcj02',
  bd09: 'bd09',
  'bd-09': 'bd09',
  百度: 'bd09',
  baidu: 'bd09',
};
const TRUE = new Set(['1', 'true', 'yes', 'y', '是', '有']);
const FALSE = new Set(['0', 'false', 'no', 'n', '否', '无']);

/** API field path → the model's column, to name errors by the file's own header. */
const PATH_TO_COLUMN: Record<string, Column> = {
  code: 'code',
  name: 'name',
  networkId: 'network',
  orgUnitId: 'org_unit',
  'position.lon': 'lon',
  'position.lat': 'lat',
  'position.system': 'coord_system',
  position: 'lon',
  address: 'address',
  direction: 'direction',
  fov: 'fov',
  onvifUrl: 'onvif_url',
  'credentials.username': 'username',
  'credentials.password': 'password',
  credentials: 'username',
  mainStreamUri: 'main_stream_uri',
  subStreamUri: 'sub_stream_uri',
  ptz: 'ptz',
};

/**
 * An import error with what the console needs to say it in its language
 * (issue 17): the ledger's own column name behind the file's header (经度,
 * longitude and lon are all `lon`) and the message's code and parameters.
 */
export function codedImportError(e: ImportRowError): ImportRowError {
  const column = e.field === 'row' ? 'row' : HEADER_INDEX.get(e.field.trim().toLowerCase());
  const coded = e.code ? undefined : codeOfMessage(e.message);
  return { ...e, ...(column ? { column } : {}), ...(coded ?? {}) };
}

export interface LedgerRow {
  line: number;
  input: unknown;
  columnOf: (path: string) => string;
}

/** `rows` are the rows that passed the ledger-level checks; `errors` the rest (or a fatal header/syntax error). */
export interface LedgerParse {
  rows: LedgerRow[];
  errors: ImportRowError[];
}

const REQUIRED: Column[] = ['name', 'network', 'org_unit', 'lon', 'lat'];
/** The CSV reader's own field cap; the schema's caps (128 for a name…) apply after. */
const CELL_MAX = 4096;

export function parseLedger(
  text: string,
  ctx: { networks: readonly Network[]; orgs: OrgRepo; maxRows: number },
): LedgerParse {
  let records;
  try {
    records = parseCsv(text.replace(/^\uFEFF/, ''), { maxRecords: ctx.maxRows + 1, maxFieldLength: CELL_MAX });
  } catch (err) {
    if (err instanceof CsvSyntaxError)
      return { rows: [], errors: [{ line: err.line, field: 'row', message: err.message }] };
    throw err;
  }
  const header = records[0];
  if (!header)
    return { rows: [], errors: [{ line: 1, field: 'row', message: 'the file is empty: a header row is required' }] };
  const errors: ImportRowError[] = [];
  const colIndex = new Map<Column, number>();
  const written = new Map<Column, string>();
  header.fields.forEach((raw, i) => {
    const h = raw.trim();
    const col = HEADER_INDEX.get(h.toLowerCase());
    if (READ_ONLY.has(h.toLowerCase())) return;
    if (!col) errors.push({ line: header.line, field: h || `column ${i + 1}`, message: 'unknown column' });
    else if (colIndex.has(col))
      errors.push({ line: header.line, field: h, message: `column given twice (as "${written.get(col)}")` });
    else {
      colIndex.set(col, i);
      written.set(col, h);
    }
  });
  for (const r of REQUIRED)
    if (!colIndex.has(r)) errors.push({ line: header.line, field: r, message: 'required column is missing' });
  if (errors.length) return { rows: [], errors };

  const columnOf = (path: string) => {
    const col = PATH_TO_COLUMN[path];
    return col ? (written.get(col) ?? col) : path;
  };
  const networkByKey = new Map<string, string>();
  for (const n of ctx.networks) {
    networkByKey.set(n.id, n.id);
    networkByKey.set(n.name, n.id);
    networkByKey.set(n.nameEn.toLowerCase(), n.id);
    networkByKey.set(n.name.replace(/工程$/, ''), n.id);
  }
  const orgByName = new Map<string, number | 'ambiguous'>();
  for (const u of ctx.orgs.all()) orgByName.set(u.name, orgByName.has(u.name) ? 'ambiguous' : u.id);

  const rows: LedgerRow[] = [];
  for (const rec of records.slice(1)) {
    const rowErrors: ImportRowError[] = [];
    // Every cell goes through the text policy before it is looked up or echoed in a message: a
    // bidi override or an escape sequence in a network or org cell is refused, not quoted back.
    // The password is a secret: the schema checks it without normalising it.
    const clean = new Map<Column, string>();
    for (const [c, i] of colIndex) {
      const raw = rec.fields[i]?.trim() ?? '';
      if (raw === '') continue;
      if (c === 'password') {
        clean.set(c, raw);
        continue;
      }
      const checked = checkText(raw, { max: CELL_MAX });
      if (checked.ok || checked.message === TEXT_MESSAGES.blank) clean.set(c, checked.ok ? checked.value : raw);
      else rowErrors.push({ line: rec.line, field: written.get(c) ?? c, message: checked.message });
    }
    const refused = new Set(rowErrors.map((e) => e.field));
    const cell = (c: Column): string | undefined => clean.get(c);
    const required = (c: Column) => {
      const field = written.get(c) ?? c;
      if (!refused.has(field)) rowErrors.push({ line: rec.line, field, message: 'required' });
    };
    if (rec.fields.length !== header.fields.length) {
      rowErrors.push({
        line: rec.line,
        field: 'row',
        message: `has ${rec.fields.length} fields, the header has ${header.fields.length}`,
      });
    }
    const num = (c: Column): number | undefined | null => {
      const v = cell(c);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) {
        rowErrors.push({ line: rec.line, field: written.get(c) ?? c, message: `"${v.slice(0, 40)}" is not a number` });
        return null;
      }
      return n;
    };
    const input: Record<string, unknown> = {};
    const code = cell('code');
    if (code !== undefined) input.code = code;
    const name = cell('name');
    input.name = name ?? '';
    const net = cell('network');
    if (net === undefined) required('network');
    else {
      const id = networkByKey.get(net) ?? networkByKey.get(net.toLowerCase());
      if (!id)
        rowErrors.push({
          line: rec.line,
          field: written.get('network') ?? 'network',
          message: `unknown network "${net.slice(0, 40)}"`,
        });
      else input.networkId = id;
    }
    const org = cell('org_unit');
    if (org === undefined) required('org_unit');
    else {
      const byCode = ctx.orgs.byCode(org);
      const byName = orgByName.get(org);
      if (byCode) input.orgUnitId = byCode.id;
      else if (byName === 'ambiguous') {
        rowErrors.push({
          line: rec.line,
          field: written.get('org_unit') ?? 'org_unit',
          message: `name "${org}" matches several org units; use the org unit code`,
        });
      } else if (byName !== undefined) input.orgUnitId = byName;
      else
        rowErrors.push({
          line: rec.line,
          field: written.get('org_unit') ?? 'org_unit',
          message: 'org unit is not in your jurisdiction',
        });
    }
    const lon = num('lon');
    const lat = num('lat');
    const crsRaw = cell('coord_system');
    const crs = crsRaw === undefined ? 'wgs84' : CRS[crsRaw.toLowerCase()];
    if (!crs)
      rowErrors.push({
        line: rec.line,
        field: written.get('coord_system') ?? 'coord_system',
        message: `unknown coordinate system "${crsRaw?.slice(0, 20)}"; use wgs84, gcj02 or bd09`,
      });
    if (lon === undefined) required('lon');
    if (lat === undefined) required('lat');
    input.position = { lon: lon ?? 0, lat: lat ?? 0, system: crs ?? 'wgs84' };
    const address = cell('address');
    if (address !== undefined) input.address = address;
    const direction = num('direction');
    if (direction !== undefined) input.direction = direction;
    const fov = num('fov');
    if (fov !== undefined) input.fov = fov;
    for (const [col, key] of [
      ['onvif_url', 'onvifUrl'],
      ['main_stream_uri', 'mainStreamUri'],
      ['sub_stream_uri', 'subStreamUri'],
    ] as const) {
      const v = cell(col);
      if (v !== undefined) input[key] = v;
    }
    const user = cell('username');
    const pass = cell('password');
    if (user !== undefined || pass !== undefined) input.credentials = { username: user ?? '', password: pass ?? '' };
    const ptz = cell('ptz');
    if (ptz !== undefined) {
      const k = ptz.toLowerCase();
      if (TRUE.has(k)) input.ptz = true;
      else if (FALSE.has(k)) input.ptz = false;
      else
        rowErrors.push({
          line: rec.line,
          field: written.get('ptz') ?? 'ptz',
          message: `"${ptz.slice(0, 20)}" is not yes/no (是/否, 1/0)`,
        });
    }
    if (rowErrors.length) errors.push(...rowErrors);
    else rows.push({ line: rec.line, input, columnOf });
  }
  // Row-level problems found here are reported together with the schema
  // checks the service runs, so a clerk sees every bad row at once.
  return { rows, errors };
}

/** Header as written by export: the model's column names, or Chinese. */
export function exportHeader(lang: 'en' | 'zh'): string {
  const zh: Record<string, string> = {
    id: 'id',
    status: '状态',
    code: '国标编码',
    name: '点位名称',
    network: '所属网络',
    org_unit: '组织编码',
    lon: '经度',
    lat: '纬度',
    coord_system: '坐标系',
    address: '安装地址',
    direction: '方向',
    fov: '视场角',
    onvif_url: 'onvif地址',
    main_stream_uri: '主码流',
    sub_stream_uri: '子码流',
    ptz: '云台',
  };
  const cols = [
    'id',
    'code',
    'name',
    'network',
    'org_unit',
    'lon',
    'lat',
    'coord_system',
    'address',
    'direction',
    'fov',
    'onvif_url',
    'main_stream_uri',
    'sub_stream_uri',
    'ptz',
    'status',
  ];
  return csvLine(lang === 'zh' ? cols.map((c) => zh[c] ?? c) : cols);
}

/** One exported row. Credentials are never exported. */
export function exportRow(p: CameraPoint, orgCode: string): string {
  return csvLine([
    p.id,
    p.code,
    p.name,
    p.networkId,
    orgCode,
    Number(p.lon.toFixed(7)),
    Number(p.lat.toFixed(7)),
    'wgs84',
    p.address,
    p.direction,
    p.fov,
    p.onvifUrl,
    p.mainStreamUri,
    p.subStreamUri,
    p.ptz ? 1 : 0,
    p.status,
  ]);
}
