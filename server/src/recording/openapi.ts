/** The recording module's part of the OpenAPI document, from the schemas that validate requests. */
import { idParam, jsonBody, plainErrors, type OpenApiFragment } from '../http/openapi-parts.ts';
import { planBody, playbackBody } from './schema.ts';

const range = [
  { name: 'from', in: 'query', required: true, schema: { type: 'string', format: 'date-time' } },
  { name: 'to', in: 'query', required: true, schema: { type: 'string', format: 'date-time' } },
];
const mp4 = { description: 'video/mp4', content: { 'video/mp4': { schema: { type: 'string', format: 'binary' } } } };
const RANGE_RULES =
  '400 naming `from`/`to` when reversed, empty, in the future or too long; a point out of scope is 404 like a missing one';

export function recordingOpenApi(): OpenApiFragment {
  return {
    paths: {
      '/recording/status': {
        get: {
          summary:
            '录像 disk state: ok / warning / full (recording stopped, with the reason) / off; bytes used, quota, free',
          responses: { '200': { description: 'RecordingStatus' }, ...plainErrors(401, 403) },
        },
      },
      '/recording/plans': {
        get: {
          summary: 'Record plans of your jurisdiction (per point or per org unit)',
          responses: { '200': { description: 'RecordPlan[]' }, ...plainErrors(401, 403) },
        },
        put: {
          summary:
            "Creates or replaces the plan of a point (`cameraId`) or of a unit (`orgUnitId`): continuous, weekly schedule, or on alert with a pre-roll; retention in days (audited). A point's own plan overrides its unit's",
          requestBody: jsonBody(planBody),
          responses: { '200': { description: 'RecordPlan' }, ...plainErrors(400, 401, 403, 404) },
        },
      },
      '/recording/plans/{id}': {
        delete: {
          summary: 'Removes a record plan (audited); its points stop recording at the next pass',
          parameters: [idParam],
          responses: { '204': { description: 'removed' }, ...plainErrors(400, 401, 403, 404) },
        },
      },
      '/recording/cameras/{id}/spans': {
        get: {
          summary: `Recorded spans and gaps of a point in [from, to), with the alerts of the point in it (timeline markers); a point without recordings has an empty list. Beside them the camera's own recordings (ONVIF Profile G) as \`deviceSpans\` (source: device), or \`device.available: false\` with a coded reason (no Profile G, no answer); \`device=false\` skips asking the camera. ${RANGE_RULES}`,
          parameters: [
            idParam,
            ...range,
            { name: 'device', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] } },
          ],
          responses: {
            '200': { description: '{ cameraId, from, to, recording, spans, gaps, alerts, deviceSpans, device }' },
            ...plainErrors(400, 401, 403, 404),
          },
        },
      },
      '/recording/cameras/{id}/playback': {
        post: {
          summary: `A playback ticket (audited): an HLS VOD playlist of the range under /recordings/<ticket>/, bound to the asking session like live tickets, starting at \`from\` (EXT-X-START; startOffsetSec) with each segment's place on the player's timeline. With \`source: device\` the camera's own recording (ONVIF Profile G) replayed from \`from\` at \`speed\` and relayed as a live-like HLS under the same path, same tickets; 409 device_no_profile_g / device_no_onvif, 404 device_no_recording, 502 when the camera does not answer. ${RANGE_RULES}`,
          requestBody: jsonBody(playbackBody),
          responses: { '200': { description: 'PlaybackTicket' }, ...plainErrors(400, 401, 403, 404, 409, 502) },
        },
      },
      '/recording/cameras/{id}/export.mp4': {
        get: {
          summary: `The range as one MP4 (copied, never re-encoded; size-capped by recording.maxExportMb; audited); 404 no_recording when nothing was recorded. ${RANGE_RULES}`,
          parameters: [idParam, ...range],
          responses: { '200': mp4, ...plainErrors(400, 401, 403, 404, 503) },
        },
      },
      '/recording/alerts/{id}/clips': {
        get: {
          summary:
            "An alert's evidence clips (−N s to +M s by level, one per recorded camera), kept while the alert or its work order lives",
          parameters: [idParam],
          responses: { '200': { description: 'EvidenceClip[]' }, ...plainErrors(400, 401, 403) },
        },
      },
      '/recording/orders/{id}/clips': {
        get: {
          summary:
            "The evidence clips a work order holds (its alert's), kept while the order lives, also once the alert is gone",
          parameters: [idParam],
          responses: { '200': { description: 'EvidenceClip[]' }, ...plainErrors(400, 401, 403) },
        },
      },
      '/recording/clips/{id}.mp4': {
        get: {
          summary: 'An evidence clip as MP4 (audited); out of scope is 404',
          parameters: [idParam],
          responses: { '200': mp4, ...plainErrors(400, 401, 403, 404) },
        },
      },
    },
  };
}
