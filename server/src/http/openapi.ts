import { z } from 'zod';
import { alertListQuery } from '../alerts/routes.ts';
import { alertListOpenApiPaths } from '../alerts/openapi.ts';
import { mapOpenApiPaths } from '../map/openapi.ts';
import { actionSchema, ingestSchema, reportSchema, sourceSchema } from '../alerts/service.ts';
import { cameraCreateSchema, cameraPatchSchema, cameraQuerySchema } from '../cameras/schema.ts';
import { confirmSchema, scanRequestSchema } from '../discovery/schema.ts';
import {
  createSchema as orderCreateSchema,
  listQuery as orderListQuery,
  pushSchema,
  statsQuery,
  stepSchema,
} from '../dispatch/service.ts';
import { presetBody, ptzBody, streamBody, viewQuery } from '../relay/routes.ts';
import { auditExportQuerySchema, auditQuerySchema } from '../audit/routes.ts';
import { networkCreateSchema, networkPatchSchema } from '../cameras/network-routes.ts';
import { wallOpenApiPaths } from '../wall/openapi.ts';
import { qualityOpenApiPaths } from '../quality/openapi.ts';
import { recordingOpenApiPaths } from '../recording/openapi.ts';
import { reportOpenApiPaths } from '../reports/openapi.ts';

type Json = Record<string, unknown>;

const schema = (s: z.ZodType): Json => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;

const error = { $ref: '#/components/schemas/Error' };
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      { description: STATUS[c] ?? 'error', content: { 'application/json': { schema: error } } },
    ]),
  );
const STATUS: Record<number, string> = {
  400: 'invalid input; `error.fields` names each bad field (text follows one policy: NFC, no control or bidi characters, not blank; a JSON body that is not UTF-8 is `bad_encoding`)',
  401: 'no session',
  403: 'role or jurisdiction forbids it',
  404: 'not found (or outside your jurisdiction)',
  409: 'conflict: duplicate code, stale version, or a transition the current status does not allow',
  413: 'body too large',
  415: 'wrong content type',
  422: 'import rejected; nothing written',
  429: 'too many attempts or alerts; `Retry-After` says when to try again',
  503: 'the feature is not configured or not running on this server',
};

function queryParams(s: z.ZodObject): Json[] {
  const js = schema(s) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, sch]) => ({
    name,
    in: 'query',
    required: js.required?.includes(name) ?? false,
    schema: sch,
  }));
}

/** The OpenAPI 3.1 description of /api/v1, generated from the same schemas that validate requests. */
export function openApiDocument(): Json {
  const json = (ref: string) => ({
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
  });
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'County video command center API',
      version: '1',
      description:
        "Camera-point registry, live video, discovery, health, alerts, accounts and audit. Every call is scoped to the caller's org subtree. Authenticate with the `ccc_session` cookie from /auth/login or `Authorization: Bearer <token>`.",
    },
    servers: [{ url: '/api/v1' }],
    components: {
      securitySchemes: {
        cookie: { type: 'apiKey', in: 'cookie', name: 'ccc_session' },
        bearer: { type: 'http', scheme: 'bearer' },
        deviceKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Device-Key',
          description: 'Issued once by POST /alert-sources; only its hash is stored.',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                fields: {
                  type: 'array',
                  items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
                },
              },
            },
          },
        },
        CameraPointInput: schema(cameraCreateSchema),
        AlertIngest: schema(ingestSchema),
        AlertReport: schema(reportSchema),
        AlertSourceInput: schema(sourceSchema),
        AlertAction: schema(actionSchema),
        OrderCreate: schema(orderCreateSchema),
        OrderStep: schema(stepSchema),
        WallPush: schema(pushSchema),
        Alert: {
          type: 'object',
          description:
            'An alert (四色预警): type, level blue < yellow < orange < red, WGS-84 position, org unit, source, status, fold count, linked cameras and history. `seq` grows on every change.',
        },
        AlertPage: {
          type: 'object',
          properties: {
            items: { type: 'array', items: { $ref: '#/components/schemas/Alert' } },
            nextCursor: {
              type: ['string', 'null'],
              description: 'the `seq` to pass as `since` for the next page; null when caught up',
            },
          },
        },
        ScanRequest: schema(scanRequestSchema),
        DeviceConfirm: schema(confirmSchema),
        StreamRequest: schema(streamBody),
        PtzRequest: schema(ptzBody),
        CameraPointPatch: schema(cameraPatchSchema),
        CameraPoint: {
          type: 'object',
          description: 'A camera point; credentials are never returned, only `hasCredentials`.',
        },
        CameraPage: {
          type: 'object',
          properties: {
            items: { type: 'array', items: { $ref: '#/components/schemas/CameraPoint' } },
            nextCursor: { type: ['string', 'null'] },
            total: { type: 'integer' },
          },
        },
        ImportReport: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' },
            rows: { type: 'integer' },
            created: { type: 'integer' },
            encoding: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                properties: { line: { type: 'integer' }, field: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    security: [{ cookie: [] }, { bearer: [] }],
    paths: {
      '/auth/login': {
        post: {
          summary: 'Log in with username and password (rate limited)',
          security: [],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['username', 'password'],
                  properties: { username: { type: 'string' }, password: { type: 'string' } },
                },
              },
            },
          },
          responses: {
            '200': { description: 'session created; sets the cookie and returns a bearer token' },
            ...errors(400, 401, 429),
          },
        },
      },
      '/auth/logout': {
        post: {
          summary: 'End the session: its sockets are disconnected and its stream tickets stop at once',
          responses: { '204': { description: 'logged out' } },
        },
      },
      '/auth/password': {
        post: {
          summary: "Change the caller's password (PasswordChange); every other session of the account ends",
          responses: { '204': { description: 'changed' }, ...errors(400, 401, 403) },
        },
      },
      '/auth/me': {
        get: {
          summary: 'The current user with permissions',
          responses: { '200': { description: 'SessionUser' }, ...errors(401) },
        },
      },
      '/auth/session': {
        get: {
          summary:
            'Whether the caller is signed in: the SessionUser, or null without a (valid) session. Never 401, so a console asking on page load logs no error',
          security: [],
          responses: { '200': { description: 'SessionUser or null' } },
        },
      },
      '/org-units': {
        get: {
          summary: "The caller's org subtree with camera counts",
          responses: { '200': { description: 'OrgUnitView[]' }, ...errors(401) },
        },
      },
      '/networks': {
        get: {
          summary: 'Camera networks with counts in scope',
          responses: { '200': { description: 'NetworkView[]' }, ...errors(401) },
        },
        post: {
          summary: 'Add a camera network (county admins only; networks are county-wide); audited',
          requestBody: { required: true, content: { 'application/json': { schema: schema(networkCreateSchema) } } },
          responses: { '201': { description: 'NetworkView' }, ...errors(400, 401, 403, 409) },
        },
      },
      '/networks/{id}': {
        patch: {
          summary: 'Rename a network added here (built-in and configured ones are fixed: 409 network_fixed); audited',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: schema(networkPatchSchema) } } },
          responses: { '200': { description: 'NetworkView' }, ...errors(400, 401, 403, 404, 409) },
        },
        delete: {
          summary: 'Remove a network added here that no camera point uses (409 network_in_use otherwise); audited',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '204': { description: 'removed' }, ...errors(401, 403, 404, 409) },
        },
      },
      '/cameras': {
        get: {
          summary: 'Search camera points (cursor pagination)',
          parameters: queryParams(cameraQuerySchema),
          responses: { '200': { description: 'a page', ...json('CameraPage') }, ...errors(400, 401, 403) },
        },
        post: {
          summary: 'Register a camera point',
          requestBody: { required: true, ...json('CameraPointInput') },
          responses: { '201': { description: 'created', ...json('CameraPoint') }, ...errors(400, 401, 403, 409, 413) },
        },
      },
      '/cameras/{id}': {
        get: {
          summary: 'One camera point',
          parameters: [idParam],
          responses: { '200': { description: 'the point', ...json('CameraPoint') }, ...errors(401, 404) },
        },
        patch: {
          summary: 'Change fields; send `version` to detect concurrent edits',
          parameters: [idParam],
          requestBody: { required: true, ...json('CameraPointPatch') },
          responses: { '200': { description: 'updated', ...json('CameraPoint') }, ...errors(400, 401, 403, 404, 409) },
        },
        delete: {
          summary: 'Remove a camera point',
          parameters: [idParam],
          responses: { '204': { description: 'deleted' }, ...errors(401, 403, 404) },
        },
      },
      '/cameras/{id}/publish-key': {
        post: {
          summary:
            'Issue or rotate the RTMP publish key of a push-fed point (body-worn camera, drone); the key is in this answer only',
          parameters: [idParam],
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: {
            '201': { description: 'PublishKeyIssued: publishUrl and key; the point now streams from the ingest' },
            ...errors(400, 401, 403, 404),
            '503': { description: 'RTMP ingest is not running on this server' },
          },
        },
        delete: {
          summary: 'Revoke the publish key and disconnect the device pushing with it',
          parameters: [idParam],
          responses: { '204': { description: 'revoked' }, ...errors(401, 403, 404) },
        },
      },
      '/cameras/{id}/stream': {
        post: {
          summary: 'Open live video: a short-lived HLS ticket (the relay starts on demand)',
          parameters: [idParam],
          requestBody: { required: false, ...json('StreamRequest') },
          responses: { '200': { description: 'StreamTicket: playlist URL and expiry' }, ...errors(400, 401, 404, 503) },
        },
      },
      '/cameras/{id}/snapshot.jpg': {
        get: {
          summary: 'A current still frame',
          parameters: [idParam],
          responses: { '200': { description: 'JPEG', content: { 'image/jpeg': {} } }, ...errors(401, 404, 503) },
        },
      },
      '/cameras/{id}/ptz/presets': {
        get: {
          summary: 'PTZ presets of a dome camera (ONVIF)',
          parameters: [idParam],
          responses: { '200': { description: 'PtzPreset[]' }, ...errors(401, 403, 404, 503) },
        },
        post: {
          summary: 'Store where the dome looks now as a preset (ONVIF SetPreset; rate limited, audited)',
          parameters: [idParam],
          requestBody: { required: true, content: { 'application/json': { schema: schema(presetBody) } } },
          responses: {
            '201': { description: 'PtzPresetView: the device’s token' },
            ...errors(400, 401, 403, 404, 409, 429, 502),
          },
        },
      },
      '/cameras/{id}/ptz/presets/{token}': {
        delete: {
          summary: 'Remove a preset from the dome (ONVIF RemovePreset; rate limited, audited)',
          parameters: [idParam, { name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '204': { description: 'removed' }, ...errors(400, 401, 403, 404, 409, 429, 502) },
        },
      },
      '/cameras/{id}/ptz': {
        post: {
          summary:
            'Move, stop, go to a preset, focus (Imaging Move, speed 0 stops) or step the iris (rate limited per user and camera, audited)',
          parameters: [idParam],
          requestBody: { required: true, ...json('PtzRequest') },
          responses: { '204': { description: 'sent' }, ...errors(400, 401, 403, 404, 429, 503) },
        },
      },
      '/streams': {
        get: { summary: 'Live relays in scope', responses: { '200': { description: 'RelayView[]' }, ...errors(401) } },
      },
      '/audit/view-sessions': {
        get: {
          summary:
            'Who watched which camera, when (auditors): views of cameras in your jurisdiction (an admin at the root of the org tree sees all, deleted points included); filters camera, user, from, to',
          parameters: queryParams(viewQuery),
          responses: { '200': { description: 'Page<ViewSessionEntry>' }, ...errors(400, 401, 403) },
        },
      },
      '/health/online-rate': {
        get: {
          summary: 'Online rate (在线率) of the points in scope, per org unit and network',
          responses: { '200': { description: 'OnlineRateReport' }, ...errors(401, 403) },
        },
      },
      '/discovery/settings': {
        get: { summary: 'Scan limits of this server', responses: { '200': { description: 'DiscoverySettings' } } },
      },
      '/discovery/scans': {
        get: {
          summary: 'Recent scans in scope',
          responses: { '200': { description: 'ScanView[]' }, ...errors(401, 403) },
        },
        post: {
          summary: 'Start a WS-Discovery or address-range scan (progress over Socket.IO `scan:progress`)',
          requestBody: { required: true, ...json('ScanRequest') },
          responses: { '202': { description: 'ScanView' }, ...errors(400, 401, 403, 429) },
        },
      },
      '/discovery/scans/{id}': {
        get: {
          summary: 'One scan with its devices',
          parameters: [idParam],
          responses: { '200': { description: 'ScanView' }, ...errors(401, 403, 404) },
        },
      },
      '/discovery/scans/{id}/cancel': {
        post: {
          summary: 'Cancel a running scan',
          parameters: [idParam],
          responses: { '200': { description: 'ScanView' }, ...errors(401, 403, 404) },
        },
      },
      '/discovery/devices/{id}/confirm': {
        post: {
          summary: 'Register a discovered device as a camera point',
          parameters: [idParam],
          requestBody: { required: true, ...json('DeviceConfirm') },
          responses: { '201': { description: 'created', ...json('CameraPoint') }, ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/alert-sources': {
        get: {
          summary: 'Alert sources (device keys) in scope; never the keys',
          responses: { '200': { description: 'AlertSourceView[]' }, ...errors(401, 403) },
        },
        post: {
          summary: 'Register a device and issue its key (shown in this answer only)',
          requestBody: { required: true, ...json('AlertSourceInput') },
          responses: { '201': { description: 'AlertSourceIssued: the source and its key' }, ...errors(400, 401, 403) },
        },
      },
      '/cameras/{id}/alert-events': {
        put: {
          summary:
            "Turn this point's ONVIF motion (blue) and tamper (orange) events into alerts (PullPoint subscription)",
          parameters: [idParam],
          responses: {
            '200': {
              description: '{ cameraId, watching, subscribable }: subscribable needs an ONVIF address and credentials',
            },
            ...errors(401, 403, 404),
          },
        },
        delete: {
          summary: 'Stop turning this point’s ONVIF events into alerts',
          parameters: [idParam],
          responses: { '200': { description: '{ cameraId, watching: false }' }, ...errors(401, 403, 404) },
        },
      },
      '/alerts/ingest': {
        post: {
          summary:
            'A device posts an alert with its key; it must lie in the key’s jurisdiction (else 403 naming cameraId or position); repeats of one source, type and place (same camera or within alerts.foldDistanceMeters) within the storm window fold into the open alert, and a repeat of a closed one opens a new alert linked by previousAlertId',
          security: [{ deviceKey: [] }],
          requestBody: { required: true, ...json('AlertIngest') },
          responses: {
            '201': { description: 'stored, then pushed as `alert:new`', ...json('Alert') },
            '200': { description: 'folded into an open alert (count and last time updated)', ...json('Alert') },
            ...errors(400, 401, 403, 404, 413, 415, 429),
          },
        },
      },
      '/alerts': {
        get: {
          summary: 'Alerts in scope changed after `since` (a `seq` cursor): replay after a disconnect',
          parameters: queryParams(alertListQuery),
          responses: { '200': { description: 'a page', ...json('AlertPage') }, ...errors(400, 401, 403) },
        },
        post: {
          summary: "An officer's manual report",
          requestBody: { required: true, ...json('AlertReport') },
          responses: {
            '201': { description: 'stored', ...json('Alert') },
            '200': { description: 'folded', ...json('Alert') },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      ...alertListOpenApiPaths(),
      '/alerts/{id}/snapshot.jpg': {
        get: {
          summary: 'The JPEG taken from the alert’s camera (else its first linked camera) when it was stored',
          parameters: [idParam],
          responses: { '200': { description: 'image/jpeg' }, ...errors(401, 403, 404) },
        },
      },
      '/cameras/{id}/preset-places': {
        put: {
          summary:
            'Replace where each PTZ preset looks ([{ token, name, position }]); alerts near a place turn the dome there',
          parameters: [idParam],
          responses: { '200': { description: 'the places, WGS-84' }, ...errors(400, 401, 403, 404, 409) },
        },
        get: {
          summary: 'Where each PTZ preset looks',
          parameters: [idParam],
          responses: { '200': { description: 'the places, WGS-84' }, ...errors(401, 403, 404) },
        },
      },
      '/alerts/{id}': {
        get: {
          summary: 'One alert with its history and linked cameras',
          parameters: [idParam],
          responses: { '200': { description: 'the alert', ...json('Alert') }, ...errors(401, 404) },
        },
      },
      ...Object.fromEntries(
        (
          [
            ['ack', 'Acknowledge'],
            ['false-alarm', 'Mark a false alarm'],
            ['close', 'Close'],
          ] as const
        ).map(([action, summary]) => [
          `/alerts/{id}/${action}`,
          {
            post: {
              summary: `${summary}; recorded in the history and the audit log, pushed as \`alert:updated\``,
              parameters: [idParam],
              requestBody: { required: false, ...json('AlertAction') },
              responses: { '200': { description: 'updated', ...json('Alert') }, ...errors(400, 401, 403, 404, 409) },
            },
          },
        ]),
      ),
      '/cameras/import': {
        post: {
          summary: 'Import a CSV point ledger (UTF-8 or GBK/GB18030), all or nothing',
          requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' } } } },
          responses: {
            '201': { description: 'all rows created', ...json('ImportReport') },
            '422': { description: 'rejected; every bad row listed; nothing written', ...json('ImportReport') },
            ...errors(400, 401, 403, 413, 415),
          },
        },
      },
      '/cameras/export.csv': {
        get: {
          summary: 'Export points in scope as CSV (UTF-8 with BOM); never credentials',
          responses: { '200': { description: 'CSV', content: { 'text/csv': {} } }, ...errors(400, 401, 403) },
        },
      },
      '/audit': {
        get: {
          summary:
            'Audit log, newest first (admins): entries of accounts in your jurisdiction (an admin at the root of the org tree reads all, anonymous callers included); filters action (or a family `camera.*`), outcome, user, targetType, targetId, from, to',
          parameters: queryParams(auditQuerySchema),
          responses: { '200': { description: 'Page<AuditEntry>' }, ...errors(400, 401, 403) },
        },
      },
      '/audit/export.csv': {
        get: {
          summary: 'The audit log with the same filters as CSV (UTF-8 with BOM, at most 50,000 rows); audited',
          parameters: queryParams(auditExportQuerySchema),
          responses: { '200': { description: 'CSV', content: { 'text/csv': {} } }, ...errors(400, 401, 403) },
        },
      },
      '/users': {
        get: {
          summary: 'Users in scope (admins)',
          responses: { '200': { description: 'UserView[]' }, ...errors(401, 403) },
        },
        post: {
          summary: 'Create a user (admins)',
          responses: { '201': { description: 'UserView' }, ...errors(400, 401, 403, 409) },
        },
      },
      '/users/{id}': {
        patch: {
          summary:
            'Change a user (admins): display name, password, role, org unit, disabled. A new password, role or unit, or disabling, ends every session of the account (sockets and stream tickets with them)',
          responses: { '200': { description: 'UserView' }, ...errors(400, 401, 403, 404) },
        },
      },
      ...wallOpenApiPaths(),
      ...qualityOpenApiPaths(),
      ...recordingOpenApiPaths(),
      ...reportOpenApiPaths(),
      '/map/config': {
        get: { summary: 'Map centre, zoom and basemap source', responses: { '200': { description: 'MapConfig' } } },
      },
      ...mapOpenApiPaths(),
      '/map/basemap.geojson': {
        get: {
          summary: 'The locally generated basemap',
          responses: { '200': { description: 'GeoJSON FeatureCollection' } },
        },
      },
      '/health/live': {
        get: { summary: 'Process is up', security: [], responses: { '200': { description: 'alive' } } },
      },
      '/health/ready': {
        get: {
          summary: 'Ready to serve (database reachable, schema current)',
          security: [],
          responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
        },
      },
      '/orders': {
        get: {
          summary: 'Work orders whose place is in your jurisdiction, newest first (state, mine, overdue filters)',
          parameters: queryParams(orderListQuery),
          responses: { '200': { description: '{ items: WorkOrderView[], nextCursor }' }, ...errors(400, 401, 403) },
        },
        post: {
          summary:
            'A work order from an alert (alertId) or by hand; routed by level (四事分办) unless assignTo says otherwise',
          requestBody: { required: true, ...json('OrderCreate') },
          responses: { '201': { description: 'WorkOrderView' }, ...errors(400, 401, 403, 409) },
        },
      },
      '/orders/{id}': {
        get: {
          summary: 'One order with its history (actor, time, note, attachments) and the steps open to your unit',
          parameters: [idParam],
          responses: { '200': { description: 'WorkOrderView with history and actions' }, ...errors(401, 403, 404) },
        },
      },
      ...Object.fromEntries(
        (['assign', 'sign', 'reassign', 'feedback', 'close', 'return', 'escalate'] as const).map((action) => [
          `/orders/{id}/${action}`,
          {
            post: {
              summary: `${action}: one step of the closed loop, only by the unit whose turn it is (403 wrong_level otherwise, 409 in a state that does not allow it)`,
              parameters: [idParam],
              requestBody: { required: false, ...json('OrderStep') },
              responses: {
                '200': { description: 'WorkOrderView' },
                ...errors(400, 401, 403, 404, 409),
                '502': { description: 'the snapshot camera gave no picture; nothing changed' },
              },
            },
          },
        ]),
      ),
      '/orders/{id}/attachments': {
        post: {
          summary: 'Upload an image (image/jpeg or image/png body); a later step of yours attaches it by id',
          parameters: [idParam],
          responses: { '201': { description: 'OrderAttachmentView' }, ...errors(400, 401, 403, 404, 409, 413, 415) },
        },
      },
      '/orders/{id}/attachments/{aid}': {
        get: {
          summary:
            'The image bytes of one attachment of an order in your jurisdiction (its stored Content-Type); an attachment of another order, or out of scope, is 404',
          parameters: [idParam, { name: 'aid', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
          responses: {
            '200': {
              description: 'the image',
              content: {
                'image/jpeg': { schema: { type: 'string', format: 'binary' } },
                'image/png': { schema: { type: 'string', format: 'binary' } },
              },
            },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      '/orders/stats': {
        get: {
          summary: 'Received, closed, on time, average/p90 handling minutes, overdue now: per child unit and period',
          parameters: queryParams(statsQuery),
          responses: { '200': { description: 'OrderStatsView' }, ...errors(400, 401, 403, 404) },
        },
      },
      '/orders/stats.csv': {
        get: {
          summary: 'The same statistics as CSV (UTF-8 with BOM)',
          parameters: queryParams(statsQuery),
          responses: { '200': { description: 'text/csv' }, ...errors(400, 401, 403, 404) },
        },
      },
      '/wall-pushes': {
        post: {
          summary: '视频调度: push cameras or a layout to a lower unit’s wall at once (audited)',
          requestBody: { required: true, ...json('WallPush') },
          responses: { '201': { description: 'WallPushEvent' }, ...errors(400, 401, 403) },
        },
        get: {
          summary: 'Pushes to your unit and below, newest first',
          responses: { '200': { description: 'pushes' }, ...errors(401, 403) },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
    },
  };
}
