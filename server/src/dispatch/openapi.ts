/** Dispatch's part of the OpenAPI document: work orders, their statistics and wall pushes. */
import { errors, idParam, jsonRef, queryParams, schema, type OpenApiFragment } from '../http/openapi-parts.ts';
import { createSchema, listQuery, pushSchema, statsQuery, stepSchema } from './service.ts';

const ORDER_STEPS = ['assign', 'sign', 'reassign', 'feedback', 'close', 'return', 'escalate'] as const;

export function dispatchOpenApi(): OpenApiFragment {
  return {
    components: {
      schemas: { OrderCreate: schema(createSchema), OrderStep: schema(stepSchema), WallPush: schema(pushSchema) },
    },
    paths: {
      '/orders': {
        get: {
          summary: 'Work orders whose place is in your jurisdiction, newest first (state, mine, overdue filters)',
          parameters: queryParams(listQuery),
          responses: { '200': { description: '{ items: WorkOrderView[], nextCursor }' }, ...errors(400, 401, 403) },
        },
        post: {
          summary:
            'A work order from an alert (alertId) or by hand; routed by level (四事分办) unless assignTo says otherwise',
          requestBody: { required: true, ...jsonRef('OrderCreate') },
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
        ORDER_STEPS.map((action) => [
          `/orders/{id}/${action}`,
          {
            post: {
              summary: `${action}: one step of the closed loop, only by the unit whose turn it is (403 wrong_level otherwise, 409 in a state that does not allow it)`,
              parameters: [idParam],
              requestBody: { required: false, ...jsonRef('OrderStep') },
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
          requestBody: { required: true, ...jsonRef('WallPush') },
          responses: { '201': { description: 'WallPushEvent' }, ...errors(400, 401, 403) },
        },
        get: {
          summary: 'Pushes to your unit and below, newest first',
          responses: { '200': { description: 'pushes' }, ...errors(401, 403) },
        },
      },
    },
  };
}
