/** The relay's part of the OpenAPI document: live video, snapshots, PTZ and who watched what. */
import {
  errors,
  idParam,
  jsonBody,
  jsonRef,
  queryParams,
  schema,
  stringParam,
  type OpenApiFragment,
} from '../http/openapi-parts.ts';
import { presetBody, ptzBody, streamBody, viewQuery } from './routes.ts';

export function relayOpenApi(): OpenApiFragment {
  return {
    components: { schemas: { StreamRequest: schema(streamBody), PtzRequest: schema(ptzBody) } },
    paths: {
      '/cameras/{id}/stream': {
        post: {
          summary: 'Open live video: a short-lived HLS ticket (the relay starts on demand)',
          parameters: [idParam],
          requestBody: { required: false, ...jsonRef('StreamRequest') },
          responses: {
            '200': { description: 'StreamTicket: playlist URL and expiry' },
            ...errors(400, 401, 404, 503),
          },
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
          requestBody: jsonBody(presetBody),
          responses: {
            '201': { description: 'PtzPresetView: the device’s token' },
            ...errors(400, 401, 403, 404, 409, 429, 502),
          },
        },
      },
      '/cameras/{id}/ptz/presets/{token}': {
        delete: {
          summary: 'Remove a preset from the dome (ONVIF RemovePreset; rate limited, audited)',
          parameters: [idParam, stringParam('token')],
          responses: { '204': { description: 'removed' }, ...errors(400, 401, 403, 404, 409, 429, 502) },
        },
      },
      '/cameras/{id}/ptz': {
        post: {
          summary:
            'Move, stop, go to a preset, focus (Imaging Move, speed 0 stops) or step the iris (rate limited per user and camera, audited)',
          parameters: [idParam],
          requestBody: { required: true, ...jsonRef('PtzRequest') },
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
    },
  };
}
