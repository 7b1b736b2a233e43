import { codeOfMessage } from '../api/messages.ts';
import type { DeviceStatus, DiscoveredDeviceView, DiscoveredProfile, ScanStatus, ScanView } from '../api/contract.ts';
import type { Store } from '../db/store.ts';
import { pathRange, type Scope } from '../org/scope.ts';

/** A device as found and interrogated; credentials that worked are sealed, never viewed. */
export type DiscoveredDevice = Omit<DiscoveredDeviceView, 'credentialsOk'> & { credentialsSealed: string | null };

export interface ScanJob {
  id: number;
  orgUnitId: number;
  orgPath: string;
  createdBy: number | null;
  createdByName: string | null;
  mode: ScanView['mode'];
  target: string;
  status: ScanStatus;
  total: number;
  probed: number;
  found: number;
  interrogated: number;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface DiscoveryRepo {
  createScan(s: {
    orgUnitId: number;
    orgPath: string;
    createdBy: number;
    mode: ScanView['mode'];
    target: string;
    total: number;
  }): Promise<ScanJob>;
  updateScan(
    id: number,
    patch: Partial<Pick<ScanJob, 'status' | 'total' | 'probed' | 'found' | 'interrogated' | 'error' | 'finishedAt'>>,
  ): Promise<ScanJob>;
  scan(scope: Scope, id: number): Promise<ScanJob | undefined>;
  scans(scope: Scope, limit: number): Promise<ScanJob[]>;
  /** Marks scans left running by a previous process as failed. */
  failRunning(reason: string, at: string): Promise<number>;
  addDevice(d: Omit<DiscoveredDevice, 'id'>): Promise<DiscoveredDevice>;
  devices(scanId: number): Promise<DiscoveredDevice[]>;
  /** A device with its scan's org path, for scope checks. */
  device(id: number): Promise<(DiscoveredDevice & { orgPath: string }) | undefined>;
  markConfirmed(id: number, cameraId: number): Promise<boolean>;
}

interface ScanRow {
  id: number;
  org_unit_id: number;
  org_path: string;
  created_by: number | null;
  username: string | null;
  mode: ScanView['mode'];
  spec: string;
  status: ScanStatus;
  total: number;
  probed: number;
  found: number;
  interrogated: number;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

interface DeviceRow {
  id: number;
  scan_id: number;
  endpoint: string | null;
  xaddr: string;
  host: string;
  status: DeviceStatus;
  reason: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  mac: string | null;
  profiles: string | null;
  main_stream_uri: string | null;
  sub_stream_uri: string | null;
  snapshot_uri: string | null;
  ptz: number;
  clock_offset_ms: number | null;
  credentials_enc: string | null;
  camera_id: number | null;
  reported_uris: string | null;
  org_path?: string;
}

const scanFrom = (r: ScanRow): ScanJob => ({
  id: r.id,
  orgUnitId: r.org_unit_id,
  orgPath: r.org_path,
  createdBy: r.created_by,
  createdByName: r.username,
  mode: r.mode,
  target: r.spec,
  status: r.status,
  total: r.total,
  probed: r.probed,
  found: r.found,
  interrogated: r.interrogated,
  error: r.error,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

const deviceFrom = (r: DeviceRow): DiscoveredDevice => ({
  id: r.id,
  scanId: r.scan_id,
  endpoint: r.endpoint,
  xaddr: r.xaddr,
  host: r.host,
  status: r.status,
  reason: r.reason,
  manufacturer: r.manufacturer,
  model: r.model,
  firmware: r.firmware,
  serial: r.serial,
  mac: r.mac,
  profiles: r.profiles ? (JSON.parse(r.profiles) as DiscoveredProfile[]) : [],
  mainStreamUri: r.main_stream_uri,
  subStreamUri: r.sub_stream_uri,
  snapshotUri: r.snapshot_uri,
  ptz: r.ptz === 1,
  clockOffsetMs: r.clock_offset_ms,
  credentialsSealed: r.credentials_enc,
  cameraId: r.camera_id,
  ...(r.reported_uris ? { reportedUris: JSON.parse(r.reported_uris) as DiscoveredDevice['reportedUris'] } : {}),
});

export function scanView(s: ScanJob): ScanView {
  return {
    id: s.id,
    mode: s.mode,
    target: s.target,
    status: s.status,
    total: s.total,
    probed: s.probed,
    found: s.found,
    interrogated: s.interrogated,
    error: s.error,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    createdBy: s.createdByName,
  };
}

/**
 * A device's reason in its parts, each with its code when it is one of
 * SERVER_MESSAGES (issue 17: the console says "not authorised" in its own
 * language and keeps the device's words for a tooltip). Coded when read, so
 * scans stored before the codes existed are coded too.
 */
export function reasonParts(reason: string | null): NonNullable<DiscoveredDeviceView['reasonParts']> {
  if (!reason) return [];
  return reason
    .split('; ')
    .filter((p) => p.trim() !== '')
    .map((text) => ({ text, ...(codeOfMessage(text) ?? {}) }));
}

export function deviceView(d: DiscoveredDevice): DiscoveredDeviceView {
  const { credentialsSealed, ...rest } = d;
  return { ...rest, reasonParts: reasonParts(d.reason), credentialsOk: credentialsSealed !== null };
}

const SCAN_SELECT =
  'SELECT s.id, s.org_unit_id, s.org_path, s.created_by, u.username, s.mode, s.spec, s.status, s.total, s.probed, s.found, s.interrogated, s.error, s.started_at, s.finished_at FROM scan_jobs s LEFT JOIN users u ON u.id = s.created_by';
const DEVICE_COLS =
  'd.id, d.scan_id, d.endpoint, d.xaddr, d.host, d.status, d.reason, d.manufacturer, d.model, d.firmware, d.serial, d.mac, d.profiles, d.main_stream_uri, d.sub_stream_uri, d.snapshot_uri, d.ptz, d.clock_offset_ms, d.credentials_enc, d.camera_id, d.reported_uris';

export function createDiscoveryRepo(store: Store, now: () => Date): DiscoveryRepo {
  const getScan = async (id: number) => {
    const r = await store.get<ScanRow>(`${SCAN_SELECT} WHERE s.id = ?`, [id]);
    return r ? scanFrom(r) : undefined;
  };
  return {
    async createScan(s) {
      const id = await store.insert(
        "INSERT INTO scan_jobs (org_unit_id, org_path, created_by, mode, spec, status, total, started_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
        [s.orgUnitId, s.orgPath, s.createdBy, s.mode, s.target, s.total, now().toISOString()],
      );
      return (await getScan(id))!;
    },
    async updateScan(id, patch) {
      const cols: string[] = [];
      const vals: (string | number | null)[] = [];
      const map: Record<string, string> = {
        status: 'status',
        total: 'total',
        probed: 'probed',
        found: 'found',
        interrogated: 'interrogated',
        error: 'error',
        finishedAt: 'finished_at',
      };
      for (const [k, v] of Object.entries(patch)) {
        const col = map[k];
        if (!col || v === undefined) continue;
        cols.push(`${col} = ?`);
        vals.push(v as string | number | null);
      }
      if (cols.length) await store.run(`UPDATE scan_jobs SET ${cols.join(', ')} WHERE id = ?`, [...vals, id]);
      return (await getScan(id))!;
    },
    async scan(scope, id) {
      const [lo, hi] = pathRange(scope.path);
      const r = await store.get<ScanRow>(`${SCAN_SELECT} WHERE s.id = ? AND s.org_path >= ? AND s.org_path < ?`, [
        id,
        lo,
        hi,
      ]);
      return r ? scanFrom(r) : undefined;
    },
    async scans(scope, limit) {
      const [lo, hi] = pathRange(scope.path);
      return (
        await store.all<ScanRow>(`${SCAN_SELECT} WHERE s.org_path >= ? AND s.org_path < ? ORDER BY s.id DESC LIMIT ?`, [
          lo,
          hi,
          limit,
        ])
      ).map(scanFrom);
    },
    async failRunning(reason, at) {
      const { changes } = await store.run(
        "UPDATE scan_jobs SET status = 'failed', error = ?, finished_at = ? WHERE status = 'running'",
        [reason, at],
      );
      return changes;
    },
    async addDevice(d) {
      const id = await store.insert(
        `INSERT INTO discovered_devices (scan_id, endpoint, xaddr, host, status, reason, manufacturer, model, firmware, serial, mac, profiles, main_stream_uri, sub_stream_uri, snapshot_uri, ptz, clock_offset_ms, credentials_enc, camera_id, found_at, reported_uris)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          d.scanId,
          d.endpoint,
          d.xaddr,
          d.host,
          d.status,
          d.reason,
          d.manufacturer,
          d.model,
          d.firmware,
          d.serial,
          d.mac,
          JSON.stringify(d.profiles),
          d.mainStreamUri,
          d.subStreamUri,
          d.snapshotUri,
          d.ptz ? 1 : 0,
          d.clockOffsetMs === null ? null : Math.round(d.clockOffsetMs),
          d.credentialsSealed,
          d.cameraId,
          now().toISOString(),
          d.reportedUris ? JSON.stringify(d.reportedUris) : null,
        ],
      );
      return { ...d, id };
    },
    async devices(scanId) {
      return (
        await store.all<DeviceRow>(
          `SELECT ${DEVICE_COLS} FROM discovered_devices d WHERE d.scan_id = ? ORDER BY d.id`,
          [scanId],
        )
      ).map(deviceFrom);
    },
    async device(id) {
      const r = await store.get<DeviceRow>(
        `SELECT ${DEVICE_COLS}, s.org_path FROM discovered_devices d JOIN scan_jobs s ON s.id = d.scan_id WHERE d.id = ?`,
        [id],
      );
      return r ? { ...deviceFrom(r), orgPath: r.org_path ?? '' } : undefined;
    },
    async markConfirmed(id, cameraId) {
      const { changes } = await store.run(
        "UPDATE discovered_devices SET status = 'confirmed', camera_id = ? WHERE id = ? AND status = 'new'",
        [cameraId, id],
      );
      return changes === 1;
    },
  };
}
