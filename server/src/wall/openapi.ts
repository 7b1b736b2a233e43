/** The wall's part of the OpenAPI document (/api/v1/openapi.json), from the schemas that validate requests. */
import { z } from 'zod';
import { idParam, jsonBody, plainErrors, queryParams, type Json } from '../http/openapi-parts.ts';
import { wallLayoutSchema } from './layout.ts';
import { pointFilterQuery } from './routes.ts';

// The wall's errors are described as plain 'error' (plainErrors), as they always were: the document is unchanged.
const errors = plainErrors;
const body = jsonBody;

export function wallOpenApiPaths(): Json {
  return {
    '/walls': {
      get: {
        summary: 'Wall screens (大屏) of your jurisdiction, or of a lower unit inside it (`orgUnitId`)',
        parameters: [{ name: 'orgUnitId', in: 'query', required: false, schema: { type: 'integer', minimum: 1 } }],
        responses: { '200': { description: 'WallScreenView[]' }, ...errors(400, 401, 403, 404) },
      },
      post: {
        summary: 'Create a wall screen for your unit or one below it',
        requestBody: body(
          z.object({ name: z.string(), orgUnitId: z.number().int().optional(), layout: wallLayoutSchema.optional() }),
        ),
        responses: { '201': { description: 'WallScreenView' }, ...errors(400, 401, 403) },
      },
    },
    '/walls/points': {
      get: {
        summary:
          'Every camera point of your jurisdiction, compact: [id, lon, lat, network, status, direction, fov, ptz, orgUnitId, name]',
        responses: { '200': { description: 'WallPointsResponse' }, ...errors(401, 403) },
      },
    },
    '/walls/points.geojson': {
      get: {
        summary:
          "The same points as a GeoJSON FeatureCollection (properties id, net, s, on) for the map worker to fetch and cluster itself; with the registry's filters (q, org, network, status, ptz) every point of that selection (the registry map); `org` outside your jurisdiction is 403",
        parameters: queryParams(pointFilterQuery),
        responses: { '200': { description: 'application/geo+json' }, ...errors(400, 401, 403) },
      },
    },
    '/walls/points.bin': {
      get: {
        summary:
          "The maps' point feed (issue 15): the same points and filters as columns of typed arrays, 14 bytes a point (u32 id, i32 lon and lat in 1e-6 degrees, u8 network index, u8 status code; a JSON header names the networks and the extent; layout in server/src/api/point-feed.ts), clustered by the page; `org` outside your jurisdiction is 403",
        parameters: queryParams(pointFilterQuery),
        responses: { '200': { description: 'application/vnd.ccc.points' }, ...errors(400, 401, 403) },
      },
    },
    '/walls/{id}': {
      get: {
        summary: 'One wall screen and its layout',
        parameters: [idParam],
        responses: { '200': { description: 'WallScreenView' }, ...errors(401, 403, 404) },
      },
      patch: {
        summary: 'Rename a wall screen (audited; the layout version is kept; pushed as `wall:updated`)',
        parameters: [idParam],
        requestBody: body(z.object({ name: z.string() })),
        responses: { '200': { description: 'WallScreenView' }, ...errors(400, 401, 403, 404) },
      },
      delete: {
        summary: 'Delete a wall screen (ends its kiosk sessions)',
        parameters: [idParam],
        responses: { '204': { description: 'deleted' }, ...errors(401, 403, 404) },
      },
    },
    '/walls/{id}/layout': {
      put: {
        summary: 'Save the layout with the version it was loaded at; pushed as `wall:updated`',
        parameters: [idParam],
        requestBody: body(z.object({ version: z.number().int().positive(), layout: wallLayoutSchema })),
        responses: { '200': { description: 'WallScreenView' }, ...errors(400, 401, 403, 404, 409) },
      },
    },
    '/walls/{id}/kiosk-token': {
      post: {
        summary: 'Issue a kiosk token for an unattended screen (shown in this answer only)',
        parameters: [idParam],
        responses: { '201': { description: 'WallKioskTokenIssued' }, ...errors(401, 403, 404) },
      },
      delete: {
        summary: "Revoke the screen's kiosk tokens and end their sessions",
        parameters: [idParam],
        responses: { '204': { description: 'revoked' }, ...errors(401, 403, 404) },
      },
    },
    '/walls/{id}/kiosk-tokens': {
      get: {
        summary: 'Kiosk tokens issued for the screen, newest first: when, by whom, revoked when (never the token)',
        parameters: [idParam],
        responses: { '200': { description: 'KioskTokenRecord[]' }, ...errors(401, 403, 404) },
      },
    },
    '/walls/kiosk/{token}': {
      get: {
        summary: 'Sign a kiosk browser in (viewing only) and redirect to its screen',
        security: [],
        parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '303': { description: 'to /wall/:id?kiosk=1, with the session cookie' }, ...errors(400, 401) },
      },
    },
    '/walls/kiosk': {
      post: {
        summary:
          'Sign a kiosk in with its token (scripted kiosks). `cookie: false`: no cookie is set, the bearer token in the answer is the only credential (a kiosk window opened on an operator’s PC keeps the operator’s own cookie); that session lasts security.sessionTtlHours',
        security: [],
        requestBody: body(z.object({ token: z.string(), cookie: z.boolean().optional() })),
        responses: { '200': { description: 'LoginResponse and screenId' }, ...errors(400, 401) },
      },
    },
  };
}
