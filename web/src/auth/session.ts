/**
 * The login session: the token and who it belongs to, in sessionStorage (gone when the
 * tab closes, never shared with other tabs or left on a shared computer the way
 * localStorage would be). An expired token counts as no session.
 */
import type { Me } from '../api/types';

const TOKEN_KEY = 'forankra.token';
const USER_KEY = 'forankra.user';

export interface Session {
  token: string;
  user: Me;
}

export function currentSession(): Session | null {
  try {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const userJson = sessionStorage.getItem(USER_KEY);
    if (!token || !userJson) return null;
    if (isExpired(token)) {
      clearSession();
      return null;
    }
    return { token, user: JSON.parse(userJson) as Me };
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(TOKEN_KEY, session.token);
  sessionStorage.setItem(USER_KEY, JSON.stringify(session.user));
}

export function clearSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}

/** Reads `exp` from the JWT's payload; the server still checks the signature. */
function isExpired(token: string): boolean {
  const payload = token.split('.')[1];
  if (!payload) return true;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json) as { exp?: number };
    return typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now();
  } catch {
    return true;
  }
}
