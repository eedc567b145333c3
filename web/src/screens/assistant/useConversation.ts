import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, call, isApiError } from '../../api/client';
import { streamChat } from '../../api/chatStream';
import { persisted } from '../../lib/persisted';
import { applyEvent, historyTurns, pendingAnswer, userTurn, type Turn } from './conversation';

let seq = 0;
const localId = () => `local-${Date.now().toString(36)}-${(seq++).toString(36)}`;

export interface Conversation {
  sessionId: string | null;
  turns: Turn[];
  /** Loading the stored history of `sessionId`. */
  loading: boolean;
  loadError: unknown;
  /** An answer is being written. */
  busy: boolean;
  send(text: string): void;
  retry(turnId: string): void;
  open(sessionId: string): void;
  startNew(): void;
  reloadHistory(): void;
  /** Bumped when the server's list of sessions changed (a new one, a new title). */
  listVersion: number;
}

/**
 * The open conversation: its id is persisted per user (a reload, or another instance
 * behind the load balancer, continues it: the history lives on the server); its turns
 * come from `GET /api/chat/history/{id}`, and new answers stream in.
 */
export function useConversation(userId: number): Conversation {
  const store = useMemo(() => persisted<string | null>(`assistant.session.${userId}`, null), [userId]);
  const [sessionId, setSessionId] = useState<string | null>(() => store.get());
  const [turns, setTurns] = useState<Turn[]>([]);
  const [loading, setLoading] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [listVersion, setListVersion] = useState(0);
  const [historyVersion, setHistoryVersion] = useState(0);
  // The session whose history is on screen, so a finished answer does not reload it.
  const shown = useRef<string | null>(null);
  const busyRef = useRef(false);
  const sessionRef = useRef<string | null>(sessionId);
  sessionRef.current = sessionId;
  const turnsRef = useRef<Turn[]>(turns);
  turnsRef.current = turns;

  const choose = useCallback(
    (id: string | null) => {
      if (id) store.set(id);
      else store.clear();
      setSessionId(id);
    },
    [store],
  );

  useEffect(() => {
    if (!sessionId) {
      shown.current = null;
      setTurns([]);
      setLoading(false);
      setLoadError(null);
      return;
    }
    if (shown.current === sessionId) return;
    const ctl = new AbortController();
    setLoading(true);
    setLoadError(null);
    setTurns([]);
    call(api.GET('/api/chat/history/{session_id}', { params: { path: { session_id: sessionId } }, signal: ctl.signal })).then(
      (history) => {
        if (ctl.signal.aborted) return;
        shown.current = sessionId;
        setTurns(historyTurns(history));
        setLoading(false);
      },
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        setLoading(false);
        // Expired (24 h) or deleted, or not a valid id any more: a new conversation, quietly.
        if (isApiError(e) && (e.status === 404 || e.code === 'validation_failed' || e.code === 'bad_request')) {
          choose(null);
          return;
        }
        setLoadError(e);
      },
    );
    return () => ctl.abort();
  }, [sessionId, historyVersion, choose]);

  // Another tab opened or started another conversation of this user: follow it when idle.
  useEffect(
    () =>
      store.subscribe((id) => {
        if (!busyRef.current && id !== sessionRef.current) setSessionId(id);
      }),
    [store],
  );

  const ask = useCallback(
    async (text: string, answerId: string) => {
      busyRef.current = true;
      setBusy(true);
      const update = (fn: (t: Turn) => Turn) => setTurns((ts) => ts.map((t) => (t.id === answerId ? fn(t) : t)));
      let session = sessionRef.current;
      for (let attempt = 0; ; attempt++) {
        try {
          const reply = await streamChat({ message: text, session_id: session }, (ev) => update((t) => applyEvent(t, ev)));
          update((t) => applyEvent(t, { type: 'done', reply }));
          shown.current = reply.session_id;
          if (reply.session_id !== sessionRef.current) choose(reply.session_id);
          setListVersion((v) => v + 1);
          break;
        } catch (e) {
          // The conversation expired or was deleted (in another tab) since it was opened:
          // carry on in a new one rather than fail.
          if (attempt === 0 && session && isApiError(e) && e.status === 404) {
            session = null;
            shown.current = null;
            update((t) => ({ ...t, content: '', tools: [], status: 'thinking' }));
            continue;
          }
          update((t) => ({ ...t, status: 'failed', error: e }));
          break;
        }
      }
      busyRef.current = false;
      setBusy(false);
    },
    [choose],
  );

  const send = useCallback(
    (raw: string) => {
      const text = raw.trim();
      if (!text || busyRef.current) return;
      const answer = pendingAnswer(localId(), text);
      setTurns((ts) => [...ts, userTurn(localId(), text), answer]);
      void ask(text, answer.id);
    },
    [ask],
  );

  const retry = useCallback(
    (turnId: string) => {
      if (busyRef.current) return;
      const question = turnsRef.current.find((t) => t.id === turnId)?.question;
      if (question === undefined) return;
      setTurns((ts) => ts.map((t) => (t.id === turnId ? pendingAnswer(turnId, question) : t)));
      void ask(question, turnId);
    },
    [ask],
  );

  const open = useCallback(
    (id: string) => {
      if (busyRef.current || id === sessionRef.current) return;
      shown.current = null;
      choose(id);
    },
    [choose],
  );

  const startNew = useCallback(() => {
    if (busyRef.current) return;
    choose(null);
  }, [choose]);

  const reloadHistory = useCallback(() => {
    shown.current = null;
    setHistoryVersion((v) => v + 1);
  }, []);

  return { sessionId, turns, loading, loadError, busy, send, retry, open, startNew, reloadHistory, listVersion };
}
