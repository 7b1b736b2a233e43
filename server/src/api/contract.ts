/**
 * The HTTP and realtime contract shared by the server and the client.
 *
 * Types only: this file must stay free of runtime imports so that the client
 * bundle can import it without pulling server code in.
 */

export const ROLES = ['admin', 'county_officer', 'township_operator', 'technician', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const ORG_LEVELS = ['county', 'township', 'village'] as const;
export type OrgLevel = (typeof ORG_LEVELS)[number];

export const COORD_SYSTEMS = ['wgs84', 'gcj02', 'bd09'] as const;
/** WGS-84 (GPS), GCJ-02 (Amap, Tencent) or BD-09 (Baidu). */
export type CoordSystem = (typeof COORD_SYSTEMS)[number];

export const CAMERA_STATUSES = ['unknown', 'online', 'offline', 'degraded'] as const;
export type CameraStatus = (typeof CAMERA_STATUSES)[number];

/** What a caller may do; the server decides per role, the client only hides buttons. */
export type Permission =
  | 'camera.read'
  | 'camera.write'
  | 'camera.import'
  | 'camera.export'
  | 'discovery.scan'
  | 'camera.control'
  | 'org.read'
  | 'audit.read'
  | 'user.read'
  | 'user.write'
  | 'alert.read'
  | 'alert.handle'
  | 'alert.report'
  | 'alert.source.manage'
  | 'order.read'
  | 'order.create'
  | 'order.handle'
  | 'order.stats'
  | 'wall.read'
  | 'wall.write'
  | 'wall.dispatch'
  /** Add, rename or remove camera networks (county admins). */
  | 'network.manage'
  /** 视频质量诊断: see picture quality, 完好率 and thumbnails (issue 16). */
  | 'quality.read'
  /** Start diagnosis sweeps, renew a point's reference picture. */
  | 'quality.manage'
  /** The leaders' reports (日/周/月/季, xlsx and PDF). */
  | 'report.read'
  /** 录像回放: recorded spans, playback and alert evidence clips of points in scope (issue 14). */
  | 'recording.read'
  /** Record plans, retention and the recording disk's state. */
  | 'recording.manage'
  /** Download a recorded range or an evidence clip as MP4 (audited). */
  | 'recording.export';

export interface ApiErrorBody {
  error: {
    /** Stable machine code, e.g. `validation_failed`, `not_found`, `forbidden`. */
    code: string;
    message: string;
    /** Present for validation errors: each names the offending field (dotted path) or CSV line. */
    fields?: FieldError[];
    /** `message` as a code of SERVER_MESSAGES (./messages.ts) and its parameters, when it is one: the console translates it. */
    messageCode?: string;
    params?: Record<string, string | number>;
  };
}

export interface FieldError {
  /** Dotted path of the field (`position.lon`), query parameter or `body`. */
  path: string;
  message: string;
  /** `message` as a code of SERVER_MESSAGES (./messages.ts) and its parameters: the console translates it. */
  code?: string;
  params?: Record<string, string | number>;
}

export interface SessionUser {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  orgUnitId: number;
  orgUnitName: string;
  permissions: Permission[];
}

export interface LoginRequest {
  username: string;
  password: string;
}

export interface LoginResponse {
  user: SessionUser;
  /** Bearer token, the same value as the httpOnly cookie; for non-browser clients. */
  token: string;
  expiresAt: string;
}

/** 组织 — a node of the county → township → village tree. */
export interface OrgUnitView {
  id: number;
  parentId: number | null;
  code: string;
  name: string;
  level: OrgLevel;
  /** Camera points in this unit and its whole subtree. */
  cameraCount: number;
  onlineCount: number;
}

/** A camera network (雪亮, 天网, …) */
export interface NetworkView {
  id: string;
  name: string;
  nameEn: string;
  /** Points visible to the caller. */
  cameraCount: number;
  onlineCount: number;
}

export interface Position {
  lon: number;
  lat: number;
}

/** 点位 — one camera at one place, as the API returns it (never with credentials). */
export interface CameraPointView {
  id: number;
  /** 20-digit GB/T 28181 device code, when the point has one. */
  code: string | null;
  name: string;
  networkId: string;
  orgUnitId: number;
  orgUnitName: string;
  /** Always WGS-84. */
  position: Position;
  /** The system the position was entered in before conversion. */
  coordSource: CoordSystem;
  address: string | null;
  /** Degrees clockwise from north, 0–360. */
  direction: number | null;
  /** Horizontal field of view in degrees. */
  fov: number | null;
  onvifUrl: string | null;
  mainStreamUri: string | null;
  subStreamUri: string | null;
  hasCredentials: boolean;
  /** The stored password no longer decrypts (the secret key changed): it must be entered again (issue 12). */
  credentialsUnreadable?: true;
  ptz: boolean;
  /** RTSP towards the camera: 'auto' tries TCP, then UDP (issue 12). */
  rtspTransport: 'auto' | 'tcp' | 'udp';
  /** The transport that delivered video last (live view or health check). */
  rtspTransportSeen: 'tcp' | 'udp' | null;
  status: CameraStatus;
  statusReason: string | null;
  /** Last time real video was seen. */
  lastSeenAt: string | null;
  lastCheckedAt: string | null;
  /** Identity read from the device over ONVIF (points registered by discovery). */
  device: { manufacturer: string | null; model: string | null; serial: string | null; mac: string | null } | null;
  createdAt: string;
  updatedAt: string;
  /** Increments on every change; send it back on PATCH to detect concurrent edits. */
  version: number;
}

export interface CameraPointInput {
  code?: string | null;
  name: string;
  networkId: string;
  orgUnitId: number;
  position: Position & { system?: CoordSystem };
  address?: string | null;
  direction?: number | null;
  fov?: number | null;
  onvifUrl?: string | null;
  mainStreamUri?: string | null;
  subStreamUri?: string | null;
  /** Write-only. `null` clears stored credentials; omitted on PATCH keeps them. */
  credentials?: { username: string; password: string } | null;
  ptz?: boolean;
  /** Default 'auto'. */
  rtspTransport?: 'auto' | 'tcp' | 'udp';
}

export type CameraPointPatch = Partial<CameraPointInput> & { version?: number };

export interface CameraSearchQuery {
  q?: string;
  /** Org unit id: the point is in this unit's subtree. */
  org?: number;
  network?: string;
  status?: CameraStatus;
  ptz?: boolean;
  /** `minLon,minLat,maxLon,maxLat` in WGS-84. */
  bbox?: string;
  limit?: number;
  cursor?: string;
  withTotal?: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total?: number;
}

export interface ImportRowError {
  /** 1-based physical line in the file (the header is line 1). */
  line: number;
  /** Column name as written in the file header, or `row`. */
  field: string;
  message: string;
  /** The ledger's own name of the column (`lon` for 经度 or longitude), when the field is one. */
  column?: string;
  /** `message` as a code of SERVER_MESSAGES (./messages.ts) and its parameters. */
  code?: string;
  params?: Record<string, string | number>;
}

export interface ImportReport {
  ok: boolean;
  rows: number;
  created: number;
  encoding: string;
  errors: ImportRowError[];
}

export interface AuditEntry {
  id: number;
  at: string;
  userId: number | null;
  username: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: 'ok' | 'denied' | 'failed';
  ip: string | null;
  detail: Record<string, unknown> | null;
}

/** One viewing session (GET /audit/view-sessions): who watched which camera, when. */
export interface ViewSessionEntry {
  id: number;
  userId: number;
  username: string | null;
  cameraId: number;
  /** Null once the point is deleted. */
  cameraName: string | null;
  quality: 'main' | 'sub';
  ip: string | null;
  startedAt: string;
  lastSeenAt: string;
  /** Null while the session is open. */
  endedAt: string | null;
}

export interface UserView {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  orgUnitId: number;
  disabled: boolean;
  /** Set on a wall screen's kiosk account (viewing only, no password): the screen it belongs to. */
  kioskScreenId: number | null;
  createdAt: string;
}

export interface UserInput {
  username: string;
  displayName: string;
  password: string;
  role: Role;
  orgUnitId: number;
}

/**
 * PATCH /users/:id (admin). Disabling an account, a new password, a new role
 * or unit end every session the account has open (its sockets and stream
 * tickets with them).
 */
export interface UserUpdate {
  displayName?: string;
  password?: string;
  role?: Role;
  orgUnitId?: number;
  disabled?: boolean;
}

/** POST /auth/password: the caller's own password. Every other session of the account ends. */
export interface PasswordChange {
  currentPassword: string;
  newPassword: string;
}

/** Where the map gets its background: generated locally, an XYZ raster source, or a style URL. */
export type BasemapConfig =
  | { type: 'generated' }
  | {
      type: 'raster';
      tiles: string[];
      tileSize: number;
      maxzoom: number;
      attribution: string;
      /** An offline package's own extent and lowest zoom, so nothing outside it is asked for. */
      minzoom?: number;
      bounds?: [number, number, number, number];
    }
  | { type: 'style'; url: string };

/** One hit of the map's search box (GET /search): an org unit, a camera point, or a point's mounting address. */
export interface PlaceSearchResult {
  kind: 'org' | 'camera' | 'address';
  /** The org unit's id, or the camera point's (for an address: the first point there). */
  id: number;
  name: string;
  /** Where it is: the parent unit, or the point's unit and address. */
  detail: string;
  position: Position;
  /** An org unit's extent [west, south, east, north]; null for points. */
  bbox: [number, number, number, number] | null;
}

export interface MapConfig {
  center: [number, number];
  zoom: number;
  basemap: BasemapConfig;
}

export const SCAN_STATUSES = ['running', 'done', 'cancelled', 'failed'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

export const DEVICE_STATUSES = [
  'new',
  'registered',
  'auth_failed',
  'unreachable',
  'not_onvif',
  'error',
  'confirmed',
] as const;
/** new: not yet a point; registered: the same device (serial, MAC or endpoint) already is one. */
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export interface ScanCredentials {
  username: string;
  password: string;
}

/** Start a scan: the local segment by multicast, address ranges by unicast, or one address. */
export type ScanRequest =
  | { mode: 'unicast'; ranges: string[]; wsdPorts?: number[]; httpPorts?: number[]; credentials?: ScanCredentials[] }
  | { mode: 'multicast'; interface: string; credentials?: ScanCredentials[] }
  | { mode: 'manual'; address: string; credentials?: ScanCredentials[] };

/** 扫描任务 — a discovery scan job. */
export interface ScanView {
  id: number;
  mode: 'unicast' | 'multicast' | 'manual';
  /** Ranges, interface or address, as requested (never credentials). */
  target: string;
  status: ScanStatus;
  /** Probes to send (unicast: hosts × ports). */
  total: number;
  probed: number;
  /** Devices that answered. */
  found: number;
  interrogated: number;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  createdBy: string | null;
}

export interface DiscoveredProfile {
  token: string;
  name: string;
  encoding: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
}

export interface DiscoveredDeviceView {
  id: number;
  scanId: number;
  endpoint: string | null;
  xaddr: string;
  host: string;
  status: DeviceStatus;
  reason: string | null;
  /** `reason` split into its parts ('; '), each as a code of SERVER_MESSAGES when it is one. */
  reasonParts?: { text: string; code?: string; params?: Record<string, string | number> }[];
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  mac: string | null;
  profiles: DiscoveredProfile[];
  mainStreamUri: string | null;
  subStreamUri: string | null;
  snapshotUri: string | null;
  ptz: boolean;
  /** Device clock minus server clock in ms, when read; authentication compensates for it. */
  clockOffsetMs: number | null;
  /** Whether working credentials were found (kept sealed for confirmation, never returned). */
  credentialsOk: boolean;
  /** The registered point this device is (registered) or became (confirmed), when in your jurisdiction. */
  cameraId: number | null;
  /**
   * Media addresses as the device reported them, when their host was not the address that answered (NAT,
   * port forwarding): the ones above are then rebased to it (unless discovery.rebaseStreamHosts is off).
   */
  reportedUris?: { mainStreamUri: string | null; subStreamUri: string | null; snapshotUri: string | null } | null;
}

/** The point a device became, and what the technician should know about it (issue 12: stream hosts). */
export type ConfirmDeviceResponse = CameraPointView & {
  warnings?: { code?: string; message: string; params?: Record<string, string | number> }[];
};

/** Confirm a discovered device into a camera point. */
export interface ConfirmDeviceRequest {
  name: string;
  networkId: string;
  orgUnitId: number;
  position: Position & { system?: CoordSystem };
  code?: string | null;
  address?: string | null;
  direction?: number | null;
  fov?: number | null;
}

export interface OnlineRateRow {
  /** Network id, or org unit id as a string. */
  key: string;
  name: string;
  total: number;
  online: number;
  degraded: number;
  offline: number;
  unknown: number;
  /** online / total, 0–1; null with no points. */
  rate: number | null;
}

/** 在线率 — overall, per network and per child unit of the caller's jurisdiction (townships for the county). */
export interface OnlineRateReport {
  at: string;
  overall: OnlineRateRow;
  byNetwork: OnlineRateRow[];
  byOrg: OnlineRateRow[];
}

export interface CameraStatusEvent {
  id: number;
  status: CameraStatus;
  reason: string | null;
  lastSeenAt: string | null;
  at: string;
}

export type PtzCommand =
  | { action: 'move'; pan: number; tilt: number; zoom: number; timeoutSec?: number }
  | { action: 'stop' }
  | { action: 'goto'; preset: string }
  /** Continuous focus (ONVIF Imaging Move): -1 near … 1 far; 0 stops focusing. */
  | { action: 'focus'; speed: number }
  /** One iris step (ONVIF Imaging settings, manual exposure): 1 opens, -1 closes. */
  | { action: 'iris'; step: 1 | -1 };

export interface PtzPresetView {
  token: string;
  name: string;
}

export const STREAM_STATES = ['starting', 'live', 'reconnecting', 'error', 'stopped'] as const;
export type StreamState = (typeof STREAM_STATES)[number];

/** Ask to watch a camera: the answer is a short-lived playlist URL. */
export interface StreamRequest {
  quality?: 'main' | 'sub';
  /** 'running': answer once the relay runs, before its first HLS segment (the live socket's tiles, issue 15). */
  wait?: 'playlist' | 'running';
}

export interface StreamTicket {
  cameraId: number;
  quality: 'main' | 'sub';
  /** HLS playlist under /streams/, valid until expiresAt; ask again for a fresh one. */
  playlistUrl: string;
  expiresAt: string;
  state: StreamState;
}

/**
 * 推流密钥 — a push-fed point's publish key (POST /cameras/:id/publish-key).
 * Shown in this answer only; the server keeps its hash. Issuing again rotates it.
 */
export interface PublishKeyIssued {
  cameraId: number;
  /**
   * Where the device pushes, with `?key=<key>` appended. Devices that ask for
   * a server and a stream key separately take everything up to the app
   * (`rtmp://host:port/live`) and `cam<id>?key=<key>`.
   */
  publishUrl: string;
  key: string;
  createdAt: string;
}

export interface StreamStateEvent {
  cameraId: number;
  quality: 'main' | 'sub';
  state: StreamState;
  reason: string | null;
  viewers: number;
  bitrateKbps: number | null;
  fps: number | null;
  restarts: number;
  /** Waiting between attempts (camera unreachable): milliseconds until the next one (issue 12). */
  retryInMs?: number;
}

export const ALERT_LEVELS = ['blue', 'yellow', 'orange', 'red'] as const;
/** 四色预警 — four-colour warning, ordered blue < yellow < orange < red. */
export type AlertLevel = (typeof ALERT_LEVELS)[number];

export const ALERT_TYPES = [
  'alarm_button',
  'intrusion',
  'line_crossing',
  'motion',
  'tamper',
  'fire',
  'crowd',
  'camera_offline',
  'manual',
  'other',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const ALERT_STATUSES = ['new', 'acknowledged', 'false_alarm', 'dispatched', 'closed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const ALERT_SOURCE_KINDS = ['device_key', 'onvif_event', 'health', 'manual'] as const;
export type AlertSourceKind = (typeof ALERT_SOURCE_KINDS)[number];

/** 预警 — one geotagged alert, possibly folded from many repeats (count). */
export interface AlertView {
  id: number;
  /** Change cursor: grows on every change of any alert; replay with GET /alerts?since=<seq>. */
  seq: number;
  type: AlertType;
  level: AlertLevel;
  /** Always WGS-84. */
  position: Position;
  coordSource: CoordSystem;
  orgUnitId: number;
  orgUnitName: string;
  source: { kind: AlertSourceKind; id: string };
  cameraId: number | null;
  /** 联动 — cameras that can see the place, best first. */
  linkedCameraIds: number[];
  title: string;
  description: string | null;
  status: AlertStatus;
  count: number;
  firstAt: string;
  lastAt: string;
  createdAt: string;
  updatedAt: string;
  /** A JPEG was taken when the alert was stored: GET /alerts/:id/snapshot.jpg. Absent until it lands. */
  hasSnapshot?: boolean;
  /** This alert repeats one at the same place that had been closed (or marked false, or dispatched): its id. */
  previousAlertId?: number;
}

/** What a device (alarm column, AI box) posts to /alerts/ingest with its X-Device-Key. */
export interface AlertIngestRequest {
  type: AlertType;
  level: AlertLevel;
  position?: Position & { system?: CoordSystem };
  cameraId?: number;
  title?: string;
  description?: string;
}

/** An alert source (device key); the key is in the creation answer only. */
export interface AlertSourceView {
  id: number;
  name: string;
  orgUnitId: number;
  rateLimitPerMinute: number;
  createdAt: string;
}

export interface AlertSourceIssued extends AlertSourceView {
  key: string;
}

export interface AlertHistoryEntry {
  at: string;
  actor: string;
  action: string;
  note: string | null;
}

/** GET /alerts/:id: the alert with its history and the work order made of it (派单), if any. */
export interface AlertDetail extends AlertView {
  history: AlertHistoryEntry[];
  orderId: number | null;
}

/** Socket.IO: server → client events. */
export interface ServerToClientEvents {
  'camera:changed': (event: {
    kind: 'created' | 'updated' | 'deleted';
    id: number;
    camera: CameraPointView | null;
  }) => void;
  'registry:imported': (event: { created: number; orgUnitIds: number[] }) => void;
  'scan:progress': (event: ScanView) => void;
  'scan:device': (event: DiscoveredDeviceView) => void;
  'camera:status': (event: CameraStatusEvent) => void;
  'stream:state': (event: StreamStateEvent) => void;
  'alert:new': (event: AlertView) => void;
  'alert:updated': (event: AlertView) => void;
  /** 视频调度: an upper level pushed cameras or a layout to this org unit's wall. Sent to the target unit's room only. */
  'wall:push': (event: WallPushEvent) => void;
  /** A wall screen's saved layout changed (another window or user saved it). */
  'wall:updated': (event: WallScreenView) => void;
  'order:new': (event: WorkOrderView) => void;
  'order:updated': (event: WorkOrderView) => void;
  /** 督办: an order is overdue; sent to the handler's unit and its parent. */
  'order:supervise': (event: OrderSuperviseEvent) => void;
  /** This socket's session ended (the server disconnects it right after): sign in again. */
  'session:ended': (event: { reason: SessionEndReason }) => void;
  /**
   * The cluster's fan-out (Redis) was away, so pushes from other instances may have been lost: replay alerts
   * from `alertsAfter` (or the own cursor, whichever is lower) and fetch again what is shown live.
   */
  'realtime:resync': (event: { alertsAfter: number }) => void;
  /** 视频质量诊断: a point's picture quality changed (its unit and the units above). */
  'quality:changed': (event: QualityChangedEvent) => void;
}

/** Why a session ended; the client translates the code. */
export type SessionEndReason = 'logout' | 'expired' | 'revoked' | 'password_changed' | 'disabled' | 'changed';

/**
 * The permission each server → client event needs. The realtime layer
 * delivers an event only to sockets whose role holds it, inside the scope the
 * event is addressed to; an event missing here does not compile. `null`: an
 * event about the receiver's own session.
 */
export const EVENT_PERMISSIONS: { readonly [K in keyof ServerToClientEvents]: Permission | null } = {
  'camera:changed': 'camera.read',
  'registry:imported': 'camera.read',
  'scan:progress': 'discovery.scan',
  'scan:device': 'discovery.scan',
  'camera:status': 'camera.read',
  'stream:state': 'camera.read',
  'alert:new': 'alert.read',
  'alert:updated': 'alert.read',
  'wall:push': 'wall.read',
  'wall:updated': 'wall.read',
  'order:new': 'order.read',
  'order:updated': 'order.read',
  'order:supervise': 'order.read',
  'session:ended': null,
  'realtime:resync': null,
  'quality:changed': 'quality.read',
};

export type Ack<T> = (reply: { ok: true; data: T } | { ok: false; error: string }) => void;

/** Socket.IO: client → server requests, each acknowledged. */
export interface ClientToServerEvents {
  'session:whoami': (ack: Ack<SessionUser>) => void;
}

/** Where a PTZ preset looks (PUT /cameras/:id/preset-places), WGS-84 on the way out. */
export interface PresetPlaceView {
  token: string;
  name: string;
  position: { lon: number; lat: number };
}

/** Tile arrangements of a wall screen: n equal tiles, or one big tile plus small ones. */
export const WALL_GRID_TILES = { '1': 1, '4': 4, '6': 6, '9': 9, '16': 16, '1+5': 6, '1+7': 8 } as const;
export type WallGrid = keyof typeof WALL_GRID_TILES;

/** 轮巡 — a group of cameras cycled through a screen's tiles on a timer. */
export interface WallTour {
  cameraIds: number[];
  intervalSec: number;
}

/** What a wall screen shows: one camera id (or nothing) per tile, in tile order, and an optional tour. */
export interface WallLayout {
  grid: WallGrid;
  tiles: Array<number | null>;
  tour: WallTour | null;
  /** How the screen shows itself and reacts to alerts; absent: WALL_DEFAULT_SETTINGS. */
  settings?: WallScreenSettings;
}

/**
 * How one wall screen shows itself and reacts to alerts (issue 17), saved with
 * its layout so an unattended (kiosk) screen follows what an operator set.
 */
export interface WallScreenSettings {
  /** 大屏模式: larger text and panels, for a wall read from across the room. */
  large: boolean;
  /** Alerts from this level up pop up, show a banner, sound and highlight the tiles of their cameras. */
  alertMinLevel: AlertLevel;
  /** Sound for those alerts (a kiosk PC's Chromium needs --autoplay-policy=no-user-gesture-required). */
  alertSound: boolean;
  /** Tiles (0-based, in order) the cameras of such an alert may take when they are not on screen; empty: none. */
  alertTiles: number[];
  /** Seconds those cameras keep the tiles (and the pop-up stays) before the screen shows its layout again. */
  alertHoldSec: number;
}

export const WALL_DEFAULT_SETTINGS: WallScreenSettings = {
  large: false,
  alertMinLevel: 'orange',
  alertSound: true,
  alertTiles: [],
  alertHoldSec: 60,
};

/** 大屏 — one physical screen of a video wall, owned by an org unit, addressed by URL. */
export interface WallScreenView {
  id: number;
  orgUnitId: number;
  name: string;
  layout: WallLayout;
  version: number;
  updatedAt: string;
}

/**
 * Every camera point of the caller's jurisdiction, compact, for the wall's map
 * and camera tree (GET /walls/points): one array per point.
 */
export interface WallPointsResponse {
  /** [id, lon, lat, networkId, status, direction°|null, fov°|null, ptz 0|1, orgUnitId, name] */
  points: [number, number, number, string, CameraStatus, number | null, number | null, 0 | 1, number, string][];
}

/** A kiosk token for one wall screen (POST /walls/:id/kiosk-token): shown once, the server keeps its hash. */
export interface WallKioskTokenIssued {
  screenId: number;
  token: string;
  /** Open this on the screen's PC: it signs in with viewing rights only and shows the screen. */
  url: string;
  createdAt: string;
}

/** A kiosk token as GET /walls/:id/kiosk-tokens lists it: never the token itself. */
export interface WallKioskTokenRecord {
  id: number;
  createdAt: string;
  /** Username of who issued it (null once that account is gone). */
  createdBy: string | null;
  revokedAt: string | null;
}

/** 视频调度 — what an upper level pushed to a lower level's wall. */
export interface WallPushEvent {
  id: number;
  targetOrgUnitId: number;
  /** One screen of the target unit, or null for whichever screens it has open. */
  screenId: number | null;
  /** Cameras to show at once, in tile order (may be empty when a layout is pushed). */
  cameraIds: number[];
  layout: WallLayout | null;
  from: { userId: number; displayName: string; orgUnitId: number; orgName: string };
  orderId: number | null;
  note: string | null;
  at: string;
}

/** 工单状态 — where an order stands in the closed loop (闭环). */
export type OrderState =
  | 'reported' // 上报: created (from an alert or by hand), waiting for the county to verify/assign
  | 'assigned' // 交办: sent to a unit, waiting for it to sign
  | 'signed' // 签收: the unit took it, handling
  | 'fed_back' // 反馈: the unit reported the result, waiting for the assigning level to check
  | 'closed'; // 办结

export const ORDER_ACTIONS = [
  'create',
  'assign',
  'sign',
  'reassign',
  'feedback',
  'approve',
  'close',
  'return',
  'escalate',
  'supervise',
] as const;
/** 交办 assign, 签收 sign, 转派 reassign, 反馈 feedback, 审核通过 approve, 办结 close, 退回 return, 上报 escalate, 督办 supervise. */
export type OrderAction = (typeof ORDER_ACTIONS)[number];

export const ORDER_STATES = ['reported', 'assigned', 'signed', 'fed_back', 'closed'] as const;

/** The steps a user takes (POST /orders/:id/<step>); create, approve and supervise are not asked for by name. */
export const ORDER_STEP_ACTIONS = ['assign', 'sign', 'reassign', 'feedback', 'close', 'return', 'escalate'] as const;
export type OrderStepAction = (typeof ORDER_STEP_ACTIONS)[number];

/** GET /orders/stats: one row per org unit (and period bucket). */
export interface OrderStatsRow {
  orgUnitId: number;
  orgName: string;
  /** Period start (local date, e.g. 2026-11-01), or null for the whole range. */
  period: string | null;
  received: number;
  closed: number;
  closedOnTime: number;
  avgHandleMinutes: number | null;
  p90HandleMinutes: number | null;
  /** Open orders past their running deadline now (units and total; null in the period series). */
  overdueNow: number | null;
}

export interface OrderStatsView {
  orgUnitId: number;
  period: 'day' | 'week' | 'month' | 'quarter';
  from: string;
  to: string;
  /** Totals per child unit over the whole range. */
  units: OrderStatsRow[];
  /** Per period bucket, for the whole subtree of orgUnitId. */
  series: OrderStatsRow[];
  total: OrderStatsRow;
}

export interface OrderAttachmentView {
  id: number;
  kind: 'snapshot' | 'image';
  cameraId: number | null;
  contentType: string;
  bytes: number;
  takenAt: string;
  url: string;
}

export interface OrderTransitionView {
  id: number;
  action: OrderAction;
  fromState: OrderState | null;
  toState: OrderState;
  actor: { userId: number | null; displayName: string; orgUnitId: number | null; orgName: string | null };
  /** The unit the order was with after this step. */
  assigneeOrgUnitId: number | null;
  note: string | null;
  attachments: OrderAttachmentView[];
  at: string;
}

/** 工单 — a matter followed from report to close. */
export interface WorkOrderView {
  id: number;
  title: string;
  description: string;
  /** Four-colour level (from the alert); picks the level that handles it (四事分办) and the deadlines. */
  level: AlertLevel;
  state: OrderState;
  alertId: number | null;
  position: { lon: number; lat: number } | null;
  cameraIds: number[];
  /** Where the matter is (owner of the place). */
  placeOrgUnitId: number;
  /** Who has it now. */
  assigneeOrgUnitId: number;
  assigneeOrgName: string;
  /** The unit that assigned it and checks the feedback; null while the order is with its first unit. */
  assignerOrgUnitId: number | null;
  /** Every unit the order went down through, top first (交办 chain); the last one has it. */
  chain: number[];
  signDeadline: string | null;
  handleDeadline: string | null;
  overdue: boolean;
  superviseCount: number;
  escalations: number;
  attachments: number;
  createdBy: { userId: number | null; displayName: string };
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  closedOnTime: boolean | null;
  version: number;
  history?: OrderTransitionView[];
  /** GET /orders/:id: where the matter is, in words (issue 17): the place's org units top first, and an address from its cameras. */
  place?: { units: { id: number; name: string }[]; address: string | null };
  /** GET /orders/:id: the linked cameras in the caller's jurisdiction, named. */
  cameras?: { id: number; name: string; address: string | null }[];
  /** The steps the caller's unit may take now (GET /orders/:id). */
  actions?: OrderAction[];
}

export interface OrderSuperviseEvent {
  orderId: number;
  title: string;
  assigneeOrgUnitId: number;
  kind: 'sign' | 'handle';
  deadline: string;
  count: number;
  at: string;
}

/** 视频质量诊断 — what can be wrong with a picture, main fault first (as streams/src/diagnosis/judge.ts orders them). */
export const QUALITY_KINDS = [
  'no_signal',
  'black',
  'overexposed',
  'dark',
  'frozen',
  'occlusion',
  'scene_change',
  'blur',
  'noise',
  'color_cast',
] as const;
export type QualityKind = (typeof QUALITY_KINDS)[number];

/** unknown: never diagnosed; good; faulty (kinds say what); failed: the diagnosis could not read the stream. */
export const QUALITY_STATUSES = ['unknown', 'good', 'faulty', 'failed'] as const;
export type QualityStatus = (typeof QUALITY_STATUSES)[number];

/** Why no picture could be judged (with no_signal, or a failed diagnosis); the console translates it. */
export const QUALITY_REASONS = [
  'timeout',
  'refused',
  'unauthorized',
  'not_found',
  'no_video',
  'invalid_data',
  'no_picture',
  'ffmpeg_failed',
  'no_stream_address',
  'stream_refused',
  'offline',
] as const;
export type QualityReason = (typeof QUALITY_REASONS)[number];

/** What was measured (streams/src/diagnosis/measures.ts); null where it could not be. */
export interface QualityMeasuresView {
  lumaP50: number;
  lumaP90: number;
  brightShare: number;
  blur: number | null;
  noise: number | null;
  castFactor: number;
  castDistance: number;
  uniformShare: number;
  motion: number | null;
  sceneDifference: number | null;
}

/** One diagnosis of one point. */
export interface QualityCheckView {
  id: number;
  cameraId: number;
  at: string;
  status: Exclude<QualityStatus, 'unknown'>;
  kinds: QualityKind[];
  reason: QualityReason | null;
  measures: QualityMeasuresView | null;
  /** GET /quality/checks/:id/thumbnail.jpg */
  hasThumbnail: boolean;
  sweepId: number | null;
}

/** A point's picture quality now, beside its online status (GET /quality/points). */
export interface QualityPointView {
  cameraId: number;
  name: string;
  networkId: string;
  orgUnitId: number;
  orgUnitName: string;
  /** 在线 status from health checks. */
  online: CameraStatus;
  quality: QualityStatus;
  kinds: QualityKind[];
  reason: QualityReason | null;
  checkedAt: string | null;
  lastCheckId: number | null;
  hasThumbnail: boolean;
  /** The reference picture a scene change is judged against: GET /quality/points/:id/reference.jpg */
  referenceAt: string | null;
}

export interface QualityPointDetail extends QualityPointView {
  /** Newest first. */
  history: QualityCheckView[];
  referenceBy: string | null;
}

export interface QualitySweepView {
  id: number;
  orgUnitId: number;
  networkId: string | null;
  trigger: 'schedule' | 'manual';
  status: 'running' | 'paused' | 'done' | 'cancelled' | 'failed';
  total: number;
  checked: number;
  good: number;
  faulty: number;
  failed: number;
  /** CPU seconds per point (this process and its ffmpeg), once some are checked. */
  cpuSecondsPerPoint: number | null;
  startedAt: string;
  finishedAt: string | null;
}

/** 完好率 beside 在线率: intact = online and a good picture at its last diagnosis. */
export interface IntactRateRow {
  /** Network id, or org unit id as a string. */
  key: string;
  name: string;
  total: number;
  online: number;
  intact: number;
  /** Points whose last diagnosis found a fault. */
  faulty: number;
  onlineRate: number | null;
  intactRate: number | null;
}

export interface IntactRateReport {
  at: string;
  overall: IntactRateRow;
  byNetwork: IntactRateRow[];
  byOrg: IntactRateRow[];
  /** Points per fault kind now (a point counts once per kind it shows). */
  faults: Partial<Record<QualityKind, number>>;
}

/** One period of a trend, from the daily snapshots (rates: the days' totals summed). */
export interface QualityTrendPoint {
  period: string;
  days: number;
  onlineRate: number | null;
  intactRate: number | null;
}

export interface QualityChangedEvent {
  cameraId: number;
  orgUnitId: number;
  quality: QualityStatus;
  kinds: QualityKind[];
  reason: QualityReason | null;
  at: string;
}

/** 报表 — one unit's figures for one period (GET /reports, .xlsx, .pdf: the same numbers). */
export interface ReportRow {
  orgUnitId: number;
  orgName: string;
  /** Averages over the days of the period with a snapshot (sums of the days' counts). */
  cameraDays: number;
  onlineRate: number | null;
  intactRate: number | null;
  /** Points found with a fault during the period. */
  faultyPoints: number;
  alerts: number;
  ordersReceived: number;
  ordersClosed: number;
  ordersClosedOnTime: number;
  ordersOverdueNow: number;
  avgHandleMinutes: number | null;
}

export interface ReportView {
  orgUnitId: number;
  orgName: string;
  period: 'day' | 'week' | 'month' | 'quarter';
  /** First local date of the period and the first after it (UTC+8 by default). */
  from: string;
  to: string;
  generatedAt: string;
  total: ReportRow;
  units: ReportRow[];
  /** Points found with each fault kind during the period. */
  faults: { kind: QualityKind; points: number }[];
  alertsByType: { type: AlertType; count: number }[];
  alertsByLevel: { level: AlertLevel; count: number }[];
  /** The 12 periods up to this one. */
  trend: {
    period: string;
    onlineRate: number | null;
    intactRate: number | null;
    alerts: number;
    ordersReceived: number;
    ordersClosed: number;
  }[];
}
