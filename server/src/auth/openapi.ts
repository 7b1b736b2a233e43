/** The auth module's part of the OpenAPI document: sessions, passwords and accounts. */
import { errors, type OpenApiFragment } from '../http/openapi-parts.ts';

export function authOpenApi(): OpenApiFragment {
  return {
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
    },
  };
}
