/** The alerts module's part of the OpenAPI document, from the schemas that validate requests. */
import {
  errors,
  idParam,
  jsonRef,
  plainErrors,
  queryParams,
  schema,
  type Json,
  type OpenApiFragment,
} from '../http/openapi-parts.ts';
import { alertListQuery } from './routes.ts';
import {
  actionSchema,
  alertExportQuery,
  alertSearchQuery,
  ingestSchema,
  reportSchema,
  sourceSchema,
} from './schema.ts';

const ACTIONS = [
  ['ack', 'Acknowledge'],
  ['false-alarm', 'Mark a false alarm'],
  ['close', 'Close'],
] as const;

/** The alert list (issue 17): search and export. */
function listPaths(): Json {
  return {
    '/alerts/search': {
      get: {
        summary:
          'Alerts of your jurisdiction, newest first: by level, type and status (comma lists), place (`org`: a unit and all below it; 403 outside your jurisdiction), time (active in [from, to]) and text (title, description or number); `total` counts the whole selection',
        parameters: queryParams(alertSearchQuery),
        responses: {
          '200': { description: 'Page<AlertView> with total', content: { 'application/json': {} } },
          ...plainErrors(400, 401, 403),
        },
      },
    },
    '/alerts/export.csv': {
      get: {
        summary:
          'The same selection as CSV (UTF-8 with BOM, formula cells defused, times in the dispatch UTC offset), every row; audited as alert.export',
        parameters: queryParams(alertExportQuery),
        responses: { '200': { description: 'text/csv' }, ...plainErrors(400, 401, 403) },
      },
    },
  };
}

export function alertOpenApi(): OpenApiFragment {
  return {
    components: {
      securitySchemes: {
        deviceKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Device-Key',
          description: 'Issued once by POST /alert-sources; only its hash is stored.',
        },
      },
      schemas: {
        AlertIngest: schema(ingestSchema),
        AlertReport: schema(reportSchema),
        AlertSourceInput: schema(sourceSchema),
        AlertAction: schema(actionSchema),
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
      },
    },
    paths: {
      '/alert-sources': {
        get: {
          summary: 'Alert sources (device keys) in scope; never the keys',
          responses: { '200': { description: 'AlertSourceView[]' }, ...errors(401, 403) },
        },
        post: {
          summary: 'Register a device and issue its key (shown in this answer only)',
          requestBody: { required: true, ...jsonRef('AlertSourceInput') },
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
          requestBody: { required: true, ...jsonRef('AlertIngest') },
          responses: {
            '201': { description: 'stored, then pushed as `alert:new`', ...jsonRef('Alert') },
            '200': { description: 'folded into an open alert (count and last time updated)', ...jsonRef('Alert') },
            ...errors(400, 401, 403, 404, 413, 415, 429),
          },
        },
      },
      '/alerts': {
        get: {
          summary: 'Alerts in scope changed after `since` (a `seq` cursor): replay after a disconnect',
          parameters: queryParams(alertListQuery),
          responses: { '200': { description: 'a page', ...jsonRef('AlertPage') }, ...errors(400, 401, 403) },
        },
        post: {
          summary: "An officer's manual report",
          requestBody: { required: true, ...jsonRef('AlertReport') },
          responses: {
            '201': { description: 'stored', ...jsonRef('Alert') },
            '200': { description: 'folded', ...jsonRef('Alert') },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      ...listPaths(),
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
          responses: { '200': { description: 'the alert', ...jsonRef('Alert') }, ...errors(401, 404) },
        },
      },
      ...Object.fromEntries(
        ACTIONS.map(([action, summary]) => [
          `/alerts/{id}/${action}`,
          {
            post: {
              summary: `${summary}; recorded in the history and the audit log, pushed as \`alert:updated\``,
              parameters: [idParam],
              requestBody: { required: false, ...jsonRef('AlertAction') },
              responses: {
                '200': { description: 'updated', ...jsonRef('Alert') },
                ...errors(400, 401, 403, 404, 409),
              },
            },
          },
        ]),
      ),
    },
  };
}
