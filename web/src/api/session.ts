// The signed-in session, framework-free. Tokens live in localStorage so every tab
// shares them; `storage` events carry other tabs' refreshes, sign-ins and sign-outs.
//
// Stored value:
//   null                                   signed out (explicit logout, or never signed in)
//   {user, access_token, refresh_token}    signed in
//   {user, access_token: null, ...: null}  the session ended (refresh refused): the UI
//                                          keeps the screen and asks to sign in again
import { persisted } from '../lib/persisted';
import type { components } from './schema';

export type SessionUser = components['schemas']['UserView'];
export type Role = SessionUser['role'];

export interface StoredSession {
  user: SessionUser;
  access_token: string | null;
  refresh_token: string | null;
}

export type SessionStatus = 'anonymous' | 'authenticated' | 'expired';

export interface SessionState {
  status: SessionStatus;
  user: SessionUser | null;
}

const store = persisted<StoredSession | null>('session', null);

let current: StoredSession | null = store.get();
const listeners = new Set<(s: SessionState) => void>();

function stateOf(s: StoredSession | null): SessionState {
  if (!s) return { status: 'anonymous', user: null };
  return { status: s.access_token ? 'authenticated' : 'expired', user: s.user };
}

let state: SessionState = stateOf(current);

function emit(): void {
  state = stateOf(current);
  for (const l of listeners) l(state);
}

function write(next: StoredSession | null): void {
  current = next;
  if (next) store.set(next);
  else store.clear();
  emit();
}

if (typeof window !== 'undefined') {
  store.subscribe((next) => {
    current = next;
    emit();
  });
}

export const session = {
  state(): SessionState {
    return state;
  },
  subscribe(listener: (s: SessionState) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  accessToken(): string | null {
    return current?.access_token ?? null;
  },
  /** Re-read localStorage (another tab may have written since our last event). */
  fresh(): StoredSession | null {
    const stored = store.get();
    if (JSON.stringify(stored) !== JSON.stringify(current)) {
      current = stored;
      emit();
    }
    return current;
  },
  signedIn(user: SessionUser, access_token: string, refresh_token: string): void {
    write({ user, access_token, refresh_token });
  },
  tokensRefreshed(access_token: string, refresh_token: string): void {
    if (current) write({ ...current, access_token, refresh_token });
  },
  userUpdated(user: SessionUser): void {
    if (current) write({ ...current, user });
  },
  /** The refresh token was refused: keep who it was, ask them to sign in again. */
  expired(): void {
    if (current) write({ ...current, access_token: null, refresh_token: null });
  },
  signedOut(): void {
    write(null);
  },
};
