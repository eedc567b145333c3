import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { Dialog } from '../../components/Dialog';
import { FormError } from '../../components/FormError';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { calendar as m } from '../../i18n/messages/calendar';
import { common } from '../../i18n/messages/common';

export type CalendarEvent = components['schemas']['EventView'];
export type EventType = components['schemas']['EventType'];
export const EVENT_TYPES: readonly EventType[] = ['holiday', 'promotion', 'seasonal', 'custom'];

/** What the dialog edits: an existing event, or a new one starting on `date`. */
export type EventDraft = { event: CalendarEvent } | { date: string };

interface Values {
  name: string;
  type: EventType;
  date: string;
  end_date: string;
  description: string;
  include_in_prediction: boolean;
}

function initial(d: EventDraft): Values {
  if ('event' in d) {
    const e = d.event;
    return {
      name: e.name,
      type: e.type,
      date: e.date,
      end_date: e.end_date ?? '',
      description: e.description ?? '',
      include_in_prediction: e.include_in_prediction,
    };
  }
  return { name: '', type: 'holiday', date: d.date, end_date: '', description: '', include_in_prediction: true };
}

export function EventForm(props: { draft: EventDraft | null; onClose: () => void; onSaved: () => void; onDelete: (e: CalendarEvent) => void }) {
  const t = useT(m);
  const tc = useT(common);
  const toast = useToast();
  const d = props.draft;
  const editing = d !== null && 'event' in d ? d.event : null;
  const [v, setV] = useState<Values | null>(null);
  const [errs, setErrs] = useState<{ name?: string; date?: string; end_date?: string }>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setV(d ? initial(d) : null);
    setErrs({});
    setError(null);
  }, [d]);

  async function submit(e: Event) {
    e.preventDefault();
    if (!v || busy) return;
    const er: typeof errs = {};
    if (!v.name.trim()) er.name = t('required');
    if (!v.date) er.date = t('required');
    if (v.end_date && v.date && v.end_date < v.date) er.end_date = t('endBeforeStart');
    setErrs(er);
    if (Object.keys(er).length) return;
    setBusy(true);
    setError(null);
    const body = {
      name: v.name.trim(),
      type: v.type,
      date: v.date,
      end_date: v.end_date || null,
      description: v.description.trim() || null,
      include_in_prediction: v.include_in_prediction,
    };
    try {
      if (editing) {
        await call(api.PUT('/api/events/{event_id}', { params: { path: { event_id: editing.event_id } }, body }));
        toast.show(t('saved'), 'success');
      } else {
        const created = await call(api.POST('/api/events', { body }));
        toast.show(t('created', { name: created.name }), 'success');
      }
      props.onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const set = <K extends keyof Values>(k: K, val: Values[K]) => v && setV({ ...v, [k]: val });

  return (
    <Dialog
      open={d !== null}
      busy={busy}
      wide
      title={editing ? t('editTitle') : t('createTitle')}
      onClose={props.onClose}
      footer={
        <>
          {editing && (
            <button type="button" class="secondary outline danger-text push-left" onClick={() => props.onDelete(editing)} disabled={busy}>
              {t('delete')}
            </button>
          )}
          <button type="button" class="secondary" onClick={props.onClose} disabled={busy}>
            {tc('cancel')}
          </button>
          <button type="submit" form="event-form" disabled={busy} aria-busy={busy ? 'true' : undefined}>
            {t('save')}
          </button>
        </>
      }
    >
      {v && (
        <form id="event-form" class="form-grid" onSubmit={submit} noValidate>
          <label class="form-grid-full">
            {t('name')}
            <input name="name" value={v.name} required aria-invalid={errs.name ? 'true' : undefined} aria-describedby="ev-name-help" onInput={(e) => set('name', e.currentTarget.value)} />
            <small id="ev-name-help" class="field-error">
              {errs.name ?? ''}
            </small>
          </label>
          <label>
            {t('type')}
            <select name="type" value={v.type} onChange={(e) => set('type', e.currentTarget.value as EventType)}>
              {EVENT_TYPES.map((ty) => (
                <option key={ty} value={ty}>
                  {t(`type_${ty}`)}
                </option>
              ))}
            </select>
          </label>
          <span aria-hidden="true" />
          <label>
            {t('date')}
            <input type="date" name="date" value={v.date} required aria-invalid={errs.date ? 'true' : undefined} aria-describedby="ev-date-help" onInput={(e) => set('date', e.currentTarget.value)} />
            <small id="ev-date-help" class="field-error">
              {errs.date ?? ''}
            </small>
          </label>
          <label>
            {t('endDate')}
            <input
              type="date"
              name="end_date"
              value={v.end_date}
              min={v.date || undefined}
              aria-invalid={errs.end_date ? 'true' : undefined}
              aria-describedby="ev-end-help"
              onInput={(e) => set('end_date', e.currentTarget.value)}
            />
            <small id="ev-end-help" class={errs.end_date ? 'field-error' : undefined}>
              {errs.end_date ?? t('endDateHint')}
            </small>
          </label>
          <label class="form-grid-full">
            {t('description')}
            <textarea name="description" rows={2} value={v.description} onInput={(e) => set('description', e.currentTarget.value)} />
          </label>
          <label class="form-grid-full check-row">
            <input
              type="checkbox"
              role="switch"
              name="include_in_prediction"
              checked={v.include_in_prediction}
              aria-describedby="ev-include-help"
              onChange={(e) => set('include_in_prediction', e.currentTarget.checked)}
            />
            {t('include')}
          </label>
          <small id="ev-include-help" class="form-grid-full muted include-help">
            {t('includeHint')}
          </small>
          <div class="form-grid-full">
            <FormError error={error} />
          </div>
        </form>
      )}
    </Dialog>
  );
}
