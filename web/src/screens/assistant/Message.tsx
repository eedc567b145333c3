import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { useFormat } from '../../app/store';
import { useErrorMessage } from '../../components/ErrorState';
import { useT } from '../../i18n';
import { assistant } from '../../i18n/messages/assistant';
import { isApiError } from '../../api/errors';
import { isRetryable, sourceView, trimRecords, type Action, type ActionRecord, type Figure, type Note, type Source, type Turn } from './conversation';
import { persisted } from '../../lib/persisted';
import { productLabel } from '../../lib/productLabel';

type T = ReturnType<typeof useT<keyof (typeof assistant)['en']>>;

/** A tool's name in the UI language (an unknown tool shows as the server names it). */
export function toolLabel(t: T, tool: string): string {
  const key = `tool_${tool}` as keyof (typeof assistant)['en'];
  return key in assistant.en ? t(key) : tool;
}

/** A value from the data (urgency, stock status, event type) in the UI language. */
function noteLabel(t: T, n: Note): string {
  const key = `${n.kind}_${n.value}` as keyof (typeof assistant)['en'];
  return key in assistant.en ? t(key) : n.value;
}

export function MessageBubble(props: { turn: Turn; onRetry: (id: string) => void; busy: boolean }) {
  const t = useT(assistant);
  const message = useErrorMessage();
  const f = useFormat();
  const turn = props.turn;
  const mine = turn.role === 'user';
  const writing = turn.status === 'thinking' || turn.status === 'streaming';
  const lastTool = turn.tools[turn.tools.length - 1];

  return (
    <li class={`asst-msg ${mine ? 'asst-msg-user' : 'asst-msg-bot'}`}>
      <div class="asst-bubble">
        <span class="visually-hidden">{mine ? t('you') : t('assistantName')}: </span>
        {mine ? (
          <p class="asst-text">{turn.content}</p>
        ) : (
          <div class="asst-answer" aria-live="polite" aria-busy={writing ? 'true' : 'false'}>
            {turn.content && <p class="asst-text">{turn.content}</p>}
            {turn.status === 'thinking' && !turn.content && (
              <p class="asst-thinking" aria-busy="true">
                {t('thinking')}
              </p>
            )}
            {writing && lastTool && <p class="asst-tool muted small">{t('usingTool', { tool: toolLabel(t, lastTool) })}</p>}
          </div>
        )}
        {turn.status === 'failed' && (
          <div class="asst-failed" role="alert">
            <p>
              <strong>{t('answerFailed')}</strong> {message(turn.error)}
            </p>
            {(!isApiError(turn.error) || isRetryable(turn.error.code, turn.error.status)) && (
              <button type="button" class="secondary outline" disabled={props.busy} onClick={() => props.onRetry(turn.id)}>
                {t('retry')}
              </button>
            )}
          </div>
        )}
        {turn.timestamp && turn.status === 'done' && (
          <time class="asst-time muted" dateTime={turn.timestamp}>
            {f.dateTime(turn.timestamp)}
          </time>
        )}
      </div>
      {!mine && turn.status === 'done' && turn.sources.length > 0 && <Sources sources={turn.sources} />}
      {!mine && turn.status === 'done' && turn.actions.length > 0 && (
        <ul class="asst-actions">
          {turn.actions.map((a) => (
            <li key={a.confirm.idempotency_key}>
              <ActionCard action={a} />
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

function FigureValue(props: { figure: Figure }) {
  const f = useFormat();
  const v = props.figure.value;
  switch (props.figure.kind) {
    case 'revenue':
    case 'price':
      return <span class="money">{f.money(v)}</span>;
    case 'date':
    case 'stockout':
      return <>{typeof v === 'string' ? f.date(v) : v}</>;
    default:
      return <>{f.number(v)}</>;
  }
}

function Sources(props: { sources: Source[] }) {
  const t = useT(assistant);
  const f = useFormat();
  return (
    <details class="asst-sources">
      <summary>{t('sources', { n: props.sources.length })}</summary>
      <ul>
        {props.sources.map((s, i) => {
          const v = sourceView(s);
          return (
            <li key={i} class="asst-source">
              <p class="asst-source-head">
                <strong>{toolLabel(t, v.tool)}</strong>
                {v.from && v.to && <span class="muted"> · {t('period', { from: f.date(v.from), to: f.date(v.to) })}</span>}
              </p>
              {v.rows.length > 0 && (
                <dl class="asst-figures">
                  {v.rows.map((r, j) => (
                    <div key={j}>
                      <dt>
                        {r.label || t('store')}
                        {r.note && <span class="muted"> · {noteLabel(t, r.note)}</span>}
                      </dt>
                      <dd>
                        {r.figures.map((fig, k) => (
                          <span key={k} class="asst-figure">
                            <span class="muted">{t(`fig_${fig.kind}`)}</span> <FigureValue figure={fig} />
                          </span>
                        ))}
                      </dd>
                    </div>
                  ))}
                </dl>
              )}
              {v.more > 0 && <p class="muted small">{t('more', { n: f.number(v.more) })}</p>}
              {v.withoutModel.length > 0 && <p class="muted small">{t('withoutModel', { n: f.number(v.withoutModel.length) })}</p>}
              {v.trainingQueued && <p class="muted small">{t('trainingQueued')}</p>}
            </li>
          );
        })}
      </ul>
    </details>
  );
}

const records = persisted<Record<string, ActionRecord>>('assistant.actions', {});

type Send = (method: string, path: string, init: { body: unknown; headers: Record<string, string> }) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/**
 * A proposed action. The server made its Idempotency-Key when it proposed it and keeps it
 * in the conversation, so a double tap, a confirm after a lost answer or a confirm from
 * another tab or device changes stock once; the server answers a replay with the first
 * result, which marks the card done again. This browser remembers the result by key.
 */
function ActionCard(props: { action: Action }) {
  const t = useT(assistant);
  const f = useFormat();
  const message = useErrorMessage();
  const a = props.action;
  const key = a.confirm.idempotency_key;
  const [stock, setStock] = useState<number | undefined>(() => records.get()[key]?.stock);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const inFlight = useRef(false);
  useEffect(() => setStock(records.get()[key]?.stock), [key]);

  const done = stock !== undefined;
  const name = productLabel(a.product_name, a.product_variation);
  const title = a.kind === 'restock' ? t('actionRestock', { qty: f.number(a.quantity), name }) : `${a.kind}: ${name}`;

  const confirm = async () => {
    if (inFlight.current || done) return;
    const c = a.confirm;
    if (!c.path.startsWith('/api/')) return; // only ever our own API
    inFlight.current = true;
    setBusy(true);
    setError(null);
    try {
      const send = api.request as unknown as Send;
      const result = await call(send(c.method.toLowerCase(), c.path, { body: c.body, headers: { 'Idempotency-Key': key } }));
      const after = typeof result === 'object' && result !== null && typeof (result as { stock?: unknown }).stock === 'number' ? (result as { stock: number }).stock : -1;
      records.set(trimRecords({ ...records.get(), [key]: { stock: after } }));
      setStock(after);
    } catch (e) {
      setError(e);
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  return (
    <article class={`asst-action${done ? ' is-done' : ''}`} aria-label={title}>
      <div class="asst-action-body">
        <span class={`status-pill ${done ? 'asst-pill-done' : 'asst-pill-proposed'}`}>{done ? t('actionDoneShort') : t('proposed')}</span>
        <p class="asst-action-title">
          <strong>{title}</strong>
          <span class="muted small"> · {a.product_sku}</span>
        </p>
        <p class="muted small">{a.reason}</p>
        {done ? (
          <p class="asst-action-done" role="status">
            {stock !== undefined && stock >= 0 ? t('actionDone', { name, stock: f.number(stock) }) : t('actionDoneShort')}
          </p>
        ) : (
          <p class="muted small">{t('actionNote')}</p>
        )}
        {error !== null && (
          <p class="form-error" role="alert">
            {message(error)}
          </p>
        )}
      </div>
      {!done && (
        <button
          type="button"
          disabled={busy}
          aria-busy={busy ? 'true' : undefined}
          aria-label={t('confirmRestock', { qty: f.number(a.quantity), name })}
          onClick={() => void confirm()}
        >
          {busy ? t('confirming') : t('confirm')}
        </button>
      )}
    </article>
  );
}
