/** The RTMP ingest's part of the OpenAPI document: publish keys of push-fed points. */
import { errors, idParam, type OpenApiFragment } from '../http/openapi-parts.ts';

export function ingestOpenApi(): OpenApiFragment {
  return {
    paths: {
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
    },
  };
}
