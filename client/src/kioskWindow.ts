/**
 * A kiosk window opened from an operator's console (新窗口打开（无人值守）, issue 17).
 *
 * Opening the kiosk sign-in URL in the operator's own browser would replace
 * the operator's session cookie (one cookie jar per browser), and opening the
 * wall without it shows the operator's own session, with all its rights. So
 * the console issues a viewing-only kiosk token for the screen and opens
 * `/wall/<id>?kiosk=1#kiosk-token=<token>`: that window signs in with the
 * token and keeps the resulting session in memory as a bearer token
 * (`POST /walls/kiosk` with `cookie: false`), sent on its own API calls,
 * socket and stream requests. The fragment never reaches the server or its
 * logs; a reload signs in again, and the window ends its session when it
 * closes. Revoking the screen's kiosk tokens ends these windows too.
 */
import type { LoginResponse, SessionUser, WallKioskTokenIssued } from '@api/contract.ts';
import { API_BASE, ApiError, api, request, setWindowSession, windowSession } from './api.ts';

const HASH_KEY = 'kiosk-token';

/** The kiosk token this window was opened with, if any. */
export function kioskTokenOfWindow(): string | null {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const token = params.get(HASH_KEY);
  return token && /^[A-Za-z0-9_-]{20,100}$/.test(token) ? token : null;
}

let endOnClose: (() => void) | null = null;

/**
 * Who this window is: a kiosk window signs in with its token (null when the
 * token is revoked or unknown), any other window asks whether its cookie is a
 * session (null: nobody signed in).
 */
export async function bootSession(signal?: AbortSignal): Promise<SessionUser | null> {
  const token = kioskTokenOfWindow();
  if (!token) return api.session(signal);
  try {
    const login = await request<LoginResponse & { screenId: number }>('/walls/kiosk', {
      method: 'POST',
      json: { token, cookie: false },
      signal,
      expectUnauthorized: true,
    });
    setWindowSession(login.token);
    if (!endOnClose) {
      endOnClose = () => {
        const session = windowSession();
        if (!session) return;
        // keepalive: the request outlives the page; the cookie (the operator's) is not sent.
        void fetch(`${API_BASE}/auth/logout`, {
          method: 'POST',
          keepalive: true,
          credentials: 'omit',
          headers: { Authorization: `Bearer ${session}` },
        }).catch(() => undefined);
      };
      window.addEventListener('pagehide', endOnClose);
    }
    return login.user;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 400)) return null;
    throw err;
  }
}

/**
 * Issues a kiosk token for the screen and shows the screen with it in a new
 * window. The window is opened at once (a pop-up blocker allows it only in
 * the click) and sent to the URL when the token arrives.
 */
export async function openKioskWindow(screenId: number): Promise<void> {
  const win = window.open('about:blank', '_blank');
  try {
    const issued = await request<WallKioskTokenIssued>(`/walls/${screenId}/kiosk-token`, { method: 'POST' });
    const url = `/wall/${screenId}?kiosk=1#${HASH_KEY}=${issued.token}`;
    if (win) {
      win.opener = null;
      win.location.href = url;
    } else window.open(url, '_blank', 'noopener');
  } catch (err) {
    win?.close();
    throw err;
  }
}
