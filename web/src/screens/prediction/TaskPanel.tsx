import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useFormat } from '../../app/store';
import { useErrorMessage } from '../../components/ErrorState';
import { useT } from '../../i18n';
import { prediction } from '../../i18n/messages/prediction';

type TaskView = components['schemas']['TaskView'];
type TaskStatus = components['schemas']['TaskStatus'];

export interface ActiveTask {
  id: string;
  kind: 'train_product' | 'train_all';
  sku?: string;
}

const FINAL: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled'];
export const isFinal = (s: TaskStatus) => FINAL.includes(s);

/** Polling interval: one GET a second stays far below the general rate limit (10/s). */
const POLL_MS = 1000;

/**
 * Live status of a background training task: polls GET /api/tasks/{id} every second
 * until a final state, with a Cancel button while it is queued or running.
 */
export function TaskPanel(props: { task: ActiveTask; onFinished: (status: TaskStatus) => void; onDismiss: () => void }) {
  const t = useT(prediction);
  const f = useFormat();
  const message = useErrorMessage();
  const [view, setView] = useState<TaskView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [cancelling, setCancelling] = useState(false);
  const onFinished = useRef(props.onFinished);
  onFinished.current = props.onFinished;
  // Report the final state once, whether the poll or the Cancel answer sees it first.
  const reported = useRef(false);
  const finish = (status: TaskStatus) => {
    if (reported.current) return;
    reported.current = true;
    onFinished.current(status);
  };

  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let misses = 0;
    const poll = async () => {
      try {
        const v = await call(api.GET('/api/tasks/{task_id}', { params: { path: { task_id: props.task.id } }, signal: ctl.signal }));
        if (ctl.signal.aborted) return;
        misses = 0;
        setError(null);
        setView(v);
        if (isFinal(v.status)) {
          finish(v.status);
          return;
        }
        if (reported.current) return;
      } catch (e) {
        if (ctl.signal.aborted) return;
        misses += 1;
        setError(e);
        if (misses >= 5) return; // stop polling; the panel shows the error and can be dismissed
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [props.task.id]);

  const cancel = async () => {
    setCancelling(true);
    try {
      const v = await call(api.POST('/api/tasks/{task_id}/cancel', { params: { path: { task_id: props.task.id } } }));
      setView(v);
      if (isFinal(v.status)) finish(v.status);
    } catch (e) {
      setError(e);
    } finally {
      setCancelling(false);
    }
  };

  const status = view?.status ?? 'queued';
  const final = isFinal(status);
  const title =
    props.task.kind === 'train_all' ? t('taskTitle_train_all') : t('taskTitle_train_product', { sku: props.task.sku ?? '' });
  return (
    <section class={`card task-panel ${status}`} aria-labelledby="task-h" aria-live="polite">
      <div class="task-head">
        <h2 id="task-h">{title}</h2>
        <span class={`task-status ${status}`} role="status">
          {t(`status_${status}`)}
        </span>
      </div>
      {!final && <progress aria-labelledby="task-h" />}
      <p class="task-meta muted">
        {view?.started_at ? t('taskStarted', { when: f.dateTime(view.started_at) }) : null}
        {view && view.attempts > 1 ? ` · ${t('taskAttempt', { n: view.attempts, max: view.max_attempts })}` : null}
      </p>
      {status === 'failed' && view?.error && <p class="form-error">{t('trainFailed', { error: view.error })}</p>}
      {error !== null && (
        <p class="form-error" role="alert">
          {t('taskError')} {message(error)}
        </p>
      )}
      <div class="task-actions">
        {final || error !== null ? (
          <button type="button" class="secondary outline" onClick={props.onDismiss}>
            {t('dismiss')}
          </button>
        ) : (
          <button type="button" class="secondary" onClick={() => void cancel()} disabled={cancelling} aria-busy={cancelling ? 'true' : undefined}>
            {t('cancelTask')}
          </button>
        )}
      </div>
    </section>
  );
}
