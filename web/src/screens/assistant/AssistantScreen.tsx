import './assistant.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useSession } from '../../app/session';
import { useFormat } from '../../app/store';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorState, useErrorMessage } from '../../components/ErrorState';
import { LoadingState } from '../../components/LoadingState';
import { PageHeader } from '../../components/PageHeader';
import { useToast } from '../../components/Toast';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { assistant } from '../../i18n/messages/assistant';
import { nav } from '../../i18n/messages/nav';
import { MAX_MESSAGE, suggestionTopics, type Turn } from './conversation';
import { MessageBubble } from './Message';
import { useConversation } from './useConversation';

type SessionSummary = components['schemas']['SessionSummary'];

/**
 * The assistant: the user's conversations (newest first) and the open one, whose answer
 * streams in token by token, with its sources and any proposed action to confirm.
 */
export default function AssistantScreen() {
  const tn = useT(nav);
  const t = useT(assistant);
  const { user, isAdmin } = useSession();
  const conv = useConversation(user?.user_id ?? 0);
  const [listOpen, setListOpen] = useState(false);

  const sessions = useApi((signal) => call(api.GET('/api/chat/sessions', { signal })), [conv.listVersion]);

  const open = (id: string) => {
    conv.open(id);
    setListOpen(false);
  };
  const startNew = () => {
    conv.startNew();
    setListOpen(false);
  };

  return (
    <>
      <PageHeader
        title={tn('assistant')}
        lead={isAdmin ? t('lead') : t('leadCashier')}
        actions={
          <>
            <button
              type="button"
              class="secondary outline asst-list-toggle"
              aria-expanded={listOpen ? 'true' : 'false'}
              aria-controls="asst-sessions"
              onClick={() => setListOpen((o) => !o)}
            >
              {t('showConversations')}
            </button>
            <button type="button" onClick={startNew} disabled={conv.busy}>
              {t('newConversation')}
            </button>
          </>
        }
      />
      <div class={`asst${listOpen ? ' asst-list-open' : ''}`}>
        <SessionList
          sessions={sessions.data}
          error={sessions.error}
          loading={sessions.loading}
          reload={sessions.reload}
          current={conv.sessionId}
          busy={conv.busy}
          onOpen={open}
          onDeleted={(id) => {
            if (id === conv.sessionId) conv.startNew();
            sessions.reload();
          }}
        />
        <section class="card asst-chat" aria-labelledby="asst-chat-h">
          <h2 id="asst-chat-h" class="visually-hidden">
            {t('conversation')}
          </h2>
          <ChatLog conv={conv} isAdmin={isAdmin} />
          <Composer busy={conv.busy} onSend={conv.send} />
        </section>
      </div>
    </>
  );
}

function SessionList(props: {
  sessions: SessionSummary[] | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  current: string | null;
  busy: boolean;
  onOpen: (id: string) => void;
  onDeleted: (id: string) => void;
}) {
  const t = useT(assistant);
  const f = useFormat();
  const toast = useToast();
  const message = useErrorMessage();
  const [doomed, setDoomed] = useState<SessionSummary | null>(null);
  const [deleting, setDeleting] = useState(false);

  const remove = async () => {
    if (!doomed) return;
    setDeleting(true);
    try {
      await call(api.DELETE('/api/chat/{session_id}', { params: { path: { session_id: doomed.session_id } } }));
      toast.show(t('deleted'), 'success');
      props.onDeleted(doomed.session_id);
    } catch (e) {
      toast.show(message(e), 'error');
      // Already gone (expired, or deleted elsewhere): the list is stale either way.
      props.onDeleted(doomed.session_id);
    } finally {
      setDeleting(false);
      setDoomed(null);
    }
  };

  return (
    <aside id="asst-sessions" class="card asst-sessions" aria-labelledby="asst-sessions-h">
      <h2 id="asst-sessions-h">{t('conversations')}</h2>
      {props.error !== null && props.sessions === undefined ? (
        <ErrorState error={props.error} onRetry={props.reload} />
      ) : props.sessions === undefined ? (
        <LoadingState />
      ) : props.sessions.length === 0 ? (
        <p class="muted small">{t('noConversations')}</p>
      ) : (
        <ul class="asst-session-list">
          {props.sessions.map((s) => {
            const title = s.title || t('untitled');
            const current = s.session_id === props.current;
            return (
              <li key={s.session_id} class={current ? 'is-current' : undefined}>
                <button
                  type="button"
                  class="asst-session"
                  aria-current={current ? 'true' : undefined}
                  disabled={props.busy && !current}
                  onClick={() => props.onOpen(s.session_id)}
                >
                  <span class="asst-session-title">{title}</span>
                  <span class="muted small">
                    <time dateTime={s.updated_at}>{f.dateTime(s.updated_at)}</time>
                    {current && <> · {t('current')}</>}
                  </span>
                </button>
                <button
                  type="button"
                  class="icon-button asst-session-delete"
                  aria-label={t('deleteConversation', { title })}
                  title={t('delete')}
                  disabled={props.busy && current}
                  onClick={() => setDoomed(s)}
                >
                  <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">
                    <path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6" />
                  </svg>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <ConfirmDialog
        open={doomed !== null}
        title={t('deleteTitle')}
        confirmLabel={t('delete')}
        danger
        busy={deleting}
        onConfirm={() => void remove()}
        onCancel={() => setDoomed(null)}
      >
        <p>{t('deleteBody', { title: doomed?.title || t('untitled') })}</p>
      </ConfirmDialog>
    </aside>
  );
}

function ChatLog(props: { conv: ReturnType<typeof useConversation>; isAdmin: boolean }) {
  const t = useT(assistant);
  const { conv } = props;
  const ref = useRef<HTMLOListElement>(null);
  const stick = useRef(true);

  // Follow the answer as it grows, unless the user scrolled up to read.
  const lastContent = conv.turns.length ? (conv.turns[conv.turns.length - 1] as Turn).content.length : 0;
  useEffect(() => {
    const el = ref.current?.parentElement;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [conv.turns.length, lastContent, conv.turns[conv.turns.length - 1]?.status]);

  const onScroll = (e: Event) => {
    const el = e.currentTarget as HTMLElement;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
  };

  let body;
  if (conv.loading) body = <LoadingState label={t('loadingConversation')} />;
  else if (conv.loadError !== null) body = <ErrorState error={conv.loadError} onRetry={conv.reloadHistory} />;
  else if (conv.turns.length === 0) body = <Suggestions isAdmin={props.isAdmin} onAsk={conv.send} />;
  else
    body = (
      <ol class="asst-messages" ref={ref}>
        {conv.turns.map((turn) => (
          <MessageBubble key={turn.id} turn={turn} busy={conv.busy} onRetry={conv.retry} />
        ))}
      </ol>
    );

  return (
    <div class="asst-log" onScroll={onScroll}>
      {body}
    </div>
  );
}

function Suggestions(props: { isAdmin: boolean; onAsk: (q: string) => void }) {
  const t = useT(assistant);
  return (
    <div class="asst-empty">
      <h3>{t('emptyTitle')}</h3>
      <p class="muted">{t('emptyBody')}</p>
      <ul class="asst-chips" aria-label={t('suggestions')}>
        {suggestionTopics(props.isAdmin).map((topic) => (
          <li key={topic}>
            <button type="button" class="secondary outline asst-chip" onClick={() => props.onAsk(t(`s_${topic}`))}>
              {t(`s_${topic}`)}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Composer(props: { busy: boolean; onSend: (text: string) => void }) {
  const t = useT(assistant);
  const f = useFormat();
  const [text, setText] = useState('');
  const length = text.length;
  const tooLong = length > MAX_MESSAGE;
  const canSend = !props.busy && text.trim() !== '' && !tooLong;

  const submit = () => {
    if (!canSend) return;
    props.onSend(text);
    setText('');
  };

  return (
    <form
      class="asst-composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label class="asst-input">
        <span class="visually-hidden">{t('message')}</span>
        <textarea
          rows={2}
          maxLength={MAX_MESSAGE}
          value={text}
          placeholder={t('placeholder')}
          aria-describedby="asst-counter"
          aria-invalid={tooLong ? 'true' : undefined}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              submit();
            }
          }}
        />
      </label>
      <div class="asst-composer-side">
        <span id="asst-counter" class={`small ${length >= MAX_MESSAGE ? 'asst-counter-full' : 'muted'}`}>
          {t('counter', { n: f.number(length), max: f.number(MAX_MESSAGE) })}
        </span>
        <button type="submit" disabled={!canSend} aria-busy={props.busy ? 'true' : undefined}>
          {props.busy ? t('sending') : t('send')}
        </button>
      </div>
    </form>
  );
}
