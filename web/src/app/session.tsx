import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../api/client';
import { session, type Role, type SessionState, type SessionUser } from '../api/session';

export type { Role, SessionUser };

/** The signed-in user and role; re-renders on sign-in/out in this or another tab. */
export function useSession(): SessionState & { role: Role | null; isAdmin: boolean } {
  const [state, setState] = useState(session.state());
  useEffect(() => session.subscribe(setState), []);
  const role = state.user?.role ?? null;
  return { ...state, role, isAdmin: role === 'admin' };
}

export async function signIn(email: string, password: string): Promise<SessionUser> {
  const r = await call(api.POST('/api/auth/login', { body: { email, password } }));
  session.signedIn(r.user, r.access_token, r.refresh_token);
  return r.user;
}

export async function changePassword(current_password: string, new_password: string): Promise<void> {
  const r = await call(api.POST('/api/auth/change-password', { body: { current_password, new_password } }));
  session.signedIn(r.user, r.access_token, r.refresh_token);
}

export async function signOut(): Promise<void> {
  const refresh = session.fresh()?.refresh_token;
  try {
    // Revoke on the server (best effort); the tokens leave this browser either way.
    if (refresh) await api.POST('/api/auth/logout', { body: { refresh_token: refresh } });
  } catch {
    /* offline: the refresh token expires on its own */
  } finally {
    session.signedOut();
  }
}
