/** The quality module's part of the OpenAPI document, from the schemas that validate requests. */
import { idParam, plainErrors, queryParams, schema, type OpenApiFragment } from '../http/openapi-parts.ts';
import { pointsQuery, sweepRequest, trendQuery } from './schema.ts';

const jpegOk = {
  description: 'image/jpeg',
  content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } },
};

export function qualityOpenApi(): OpenApiFragment {
  return {
    paths: {
      '/quality/points': {
        get: {
          summary:
            '视频质量诊断: points of your jurisdiction with their picture quality beside their online status, by unit (`org`, its subtree; 403 outside your jurisdiction), network, quality and fault kind; keyset paging by cameraId',
          parameters: queryParams(pointsQuery),
          responses: { '200': { description: 'Page<QualityPointView>' }, ...plainErrors(400, 401, 403) },
        },
      },
      '/quality/points/{id}': {
        get: {
          summary: "One point's quality with its history (newest first); out of scope is 404",
          parameters: [idParam],
          responses: { '200': { description: 'QualityPointDetail' }, ...plainErrors(400, 401, 403, 404) },
        },
      },
      '/quality/points/{id}/reference': {
        post: {
          summary:
            "The point's latest picture becomes its reference scene (a technician saw the camera turned for good); scene_change is dropped; 409 when it has no usable picture (audited)",
          parameters: [idParam],
          responses: { '200': { description: 'QualityPointDetail' }, ...plainErrors(400, 401, 403, 404, 409) },
        },
      },
      '/quality/points/{id}/reference.jpg': {
        get: {
          summary: "The point's reference picture",
          parameters: [idParam],
          responses: { '200': jpegOk, ...plainErrors(400, 401, 403, 404) },
        },
      },
      '/quality/checks/{id}/thumbnail.jpg': {
        get: {
          summary: 'The picture one diagnosis saw; a check out of scope is 404',
          parameters: [idParam],
          responses: { '200': jpegOk, ...plainErrors(400, 401, 403, 404) },
        },
      },
      '/quality/intact-rate': {
        get: {
          summary:
            '完好率 (online and a good picture) beside 在线率: overall, per network and per child unit of your unit (or `orgUnitId` below it), and points per fault kind',
          parameters: [{ name: 'orgUnitId', in: 'query', required: false, schema: { type: 'integer', minimum: 1 } }],
          responses: { '200': { description: 'IntactRateReport' }, ...plainErrors(400, 401, 403, 404) },
        },
      },
      '/quality/trend': {
        get: {
          summary: 'Online rate and 完好率 per day/week/month/quarter (UTC+8 by default) from the daily snapshots',
          parameters: queryParams(trendQuery),
          responses: {
            '200': { description: '{ orgUnitId, period, from, to, points: QualityTrendPoint[] }' },
            ...plainErrors(400, 401, 403, 404),
          },
        },
      },
      '/quality/sweeps': {
        get: {
          summary: 'Recent diagnosis sweeps of your jurisdiction, newest first',
          responses: { '200': { description: 'QualitySweepView[]' }, ...plainErrors(401, 403) },
        },
        post: {
          summary:
            'Diagnose every point of a unit (a township) or of one network now (audited); 409 while a sweep runs, 503 without ffmpeg',
          requestBody: { required: false, content: { 'application/json': { schema: schema(sweepRequest) } } },
          responses: { '202': { description: 'QualitySweepView' }, ...plainErrors(400, 401, 403, 409, 503) },
        },
      },
    },
  };
}
