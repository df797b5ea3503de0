/**
 * The login session: who is signed in. The credential itself is the server's HttpOnly
 * session cookie (set by a password login and by signing in through the organisation's
 * identity provider), which no script here can read, so an injected script cannot carry
 * it off. What is kept in sessionStorage is only the user's name and organisation, for
 * the header; the server's 401 ends the session here too. The WebSocket gets a
 * single-use ticket before each connection (`sync/ticket-socket.ts`).
 */
import type { Me } from '../api/types';

const USER_KEY = 'forankra.user';
/** Where the token used to be kept; removed if an older version left one. */
const OLD_TOKEN_KEY = 'forankra.token';

export interface Session {
  user: Me;
}

export function currentSession(): Session | null {
  try {
    sessionStorage.removeItem(OLD_TOKEN_KEY);
    const userJson = sessionStorage.getItem(USER_KEY);
    if (!userJson) return null;
    return { user: JSON.parse(userJson) as Me };
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(USER_KEY, JSON.stringify(session.user));
}

export function clearSession(): void {
  sessionStorage.removeItem(USER_KEY);
  sessionStorage.removeItem(OLD_TOKEN_KEY);
}
