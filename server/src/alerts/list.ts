/**
 * The alert list as officers search it (issue 17): filters by level, type,
 * status, place, time and text, newest first with keyset paging, and the CSV
 * export of the same selection (audited). Every query is cut to the caller's
 * jurisdiction by the repository; an org filter outside it is refused.
 */
import type { AlertLevel, AlertStatus, AlertType, AlertView, Page } from '../api/contract.ts';
import { actorOf, type AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import { csvLine } from '../csv/csv.ts';
import { badRequest, forbidden } from '../http/errors.ts';
import type { OrgRepo } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import type { Alert, AlertFilter, AlertListPosition, AlertRepo } from './repo.ts';
import type { AlertExportQuery, AlertSearchQuery } from './schema.ts';

const LEVEL_ZH: Record<AlertLevel, string> = { blue: '蓝色', yellow: '黄色', orange: '橙色', red: '红色' };
const STATUS_ZH: Record<AlertStatus, string> = {
  new: '新告警',
  acknowledged: '已确认',
  false_alarm: '误报',
  dispatched: '已派单',
  closed: '已办结',
};
const TYPE_ZH: Record<AlertType, string> = {
  alarm_button: '一键报警',
  intrusion: '区域入侵',
  line_crossing: '越线',
  motion: '移动侦测',
  tamper: '视频遮挡',
  fire: '烟火',
  crowd: '人员聚集',
  camera_offline: '摄像机离线',
  manual: '人工上报',
  other: '其他',
};

const HEADER = {
  en: [
    'id',
    'level',
    'type',
    'status',
    'title',
    'description',
    'orgUnit',
    'longitude',
    'latitude',
    'firstAt',
    'lastAt',
    'count',
    'cameraId',
    'linkedCameraIds',
    'previousAlertId',
  ],
  zh: [
    '编号',
    '级别',
    '类型',
    '状态',
    '内容',
    '描述',
    '地点',
    '经度',
    '纬度',
    '首次发生',
    '最近发生',
    '次数',
    '摄像机编号',
    '联动摄像机',
    '上一条告警',
  ],
} as const;

const EXPORT_PAGE = 2000;

function encodeCursor(p: AlertListPosition): string {
  return Buffer.from(`a1:${p.lastAt}|${p.id}`).toString('base64url');
}

function decodeCursor(cursor: string): AlertListPosition | null {
  const m = /^a1:(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\|(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m?.[1] && m[2] ? { lastAt: m[1], id: Number(m[2]) } : null;
}

export function createAlertList(deps: {
  repo: AlertRepo;
  orgs: OrgRepo;
  audit: AuditLog;
  toView: (a: Alert) => AlertView;
  /** Times in the export are written in this offset from UTC (China: +480, one zone, no DST). */
  utcOffsetMinutes: number;
}) {
  const { repo, orgs, audit, toView } = deps;

  function filterOf(ctx: AuthContext, q: Omit<AlertSearchQuery, 'limit' | 'cursor'>): AlertFilter {
    const f: AlertFilter = {};
    if (q.level) f.levels = q.level;
    if (q.type) f.types = q.type;
    if (q.status) f.statuses = q.status;
    if (q.org !== undefined) {
      const org = orgs.byId(q.org);
      // The same answer for a unit elsewhere as for one that does not exist.
      if (!org || !inScope(ctx.scope, org.path))
        throw forbidden('org: org unit is not in your jurisdiction', [
          { path: 'org', message: 'org unit is not in your jurisdiction' },
        ]);
      f.orgPath = org.path;
    }
    if (q.from) f.from = new Date(q.from).toISOString();
    if (q.to) f.to = new Date(q.to).toISOString();
    if (q.q) f.q = q.q;
    return f;
  }

  const local = (iso: string) => {
    const shifted = new Date(Date.parse(iso) + deps.utcOffsetMinutes * 60_000).toISOString().slice(0, 19);
    const sign = deps.utcOffsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(deps.utcOffsetMinutes);
    return `${shifted}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  };

  function row(a: Alert, lang: 'en' | 'zh'): string {
    const zh = lang === 'zh';
    return csvLine([
      a.id,
      zh ? LEVEL_ZH[a.level] : a.level,
      zh ? TYPE_ZH[a.type] : a.type,
      zh ? STATUS_ZH[a.status] : a.status,
      a.title,
      a.description,
      orgs.byId(a.orgUnitId)?.name ?? '',
      a.lon,
      a.lat,
      local(a.firstAt),
      local(a.lastAt),
      a.count,
      a.cameraId,
      a.linkedCameraIds.join(' '),
      a.previousAlertId,
    ]);
  }

  return {
    /** GET /alerts/search: one page, newest first, with the total of the whole selection. */
    async search(ctx: AuthContext, q: AlertSearchQuery): Promise<Page<AlertView>> {
      const filter = filterOf(ctx, q);
      let after: AlertListPosition | null = null;
      if (q.cursor) {
        after = decodeCursor(q.cursor);
        if (!after) throw badRequest([{ path: 'cursor', message: 'not a cursor this server issued' }]);
      }
      const rows = await repo.search(ctx.scope, filter, after, q.limit + 1);
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return {
        items: items.map(toView),
        nextCursor: rows.length > q.limit && last ? encodeCursor({ lastAt: last.lastAt, id: last.id }) : null,
        total: await repo.count(ctx.scope, filter),
      };
    },
    /**
     * GET /alerts/export.csv: every alert of the selection, written page by
     * page. UTF-8 with a BOM (Excel on Chinese Windows), formula cells defused.
     * Audited with the filter and the row count once written.
     */
    async exportCsv(
      ctx: AuthContext,
      ip: string | null,
      q: AlertExportQuery,
      write: (chunk: string) => void,
      rawFilter: unknown,
    ): Promise<number> {
      const filter = filterOf(ctx, q);
      write('\uFEFF' + csvLine(HEADER[q.header]));
      let after: AlertListPosition | null = null;
      let n = 0;
      for (;;) {
        const page = await repo.search(ctx.scope, filter, after, EXPORT_PAGE);
        if (!page.length) break;
        write(page.map((a) => row(a, q.header)).join(''));
        n += page.length;
        const last = page[page.length - 1]!;
        after = { lastAt: last.lastAt, id: last.id };
        if (page.length < EXPORT_PAGE) break;
      }
      await audit.record({
        actor: actorOf(ctx, ip),
        action: 'alert.export',
        outcome: 'ok',
        detail: { rows: n, filter: rawFilter },
      });
      return n;
    },
  };
}

export type AlertList = ReturnType<typeof createAlertList>;
