import { useMemo, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { useFormat } from '../../app/store';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorState, useErrorMessage } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { LoadingState } from '../../components/LoadingState';
import { PageHeader } from '../../components/PageHeader';
import { useToast } from '../../components/Toast';
import { useApi } from '../../components/useApi';
import { useI18n, useT } from '../../i18n';
import { intlLocale } from '../../i18n/core';
import { calendar as m } from '../../i18n/messages/calendar';
import { nav } from '../../i18n/messages/nav';
import { EventForm, EVENT_TYPES, type CalendarEvent, type EventDraft, type EventType } from './EventForm';
import { addMonths, buildMonth, gridRange, lastDayOf, monthOf, placeEvents, type MonthRef, type Placed } from './monthGrid';

const MAX_PER_DAY = 3;
/** A glyph per type, so the type never rests on colour alone. */
const GLYPH: Record<EventType, string> = { holiday: '★', promotion: '%', seasonal: '☀', custom: '●' };

export default function CalendarScreen() {
  const t = useT(m);
  const tn = useT(nav);
  const f = useFormat();
  const toast = useToast();
  const errorMessage = useErrorMessage();
  const { locale } = useI18n();
  const today = f.today();
  const [ref, setRef] = useState<MonthRef>(() => monthOf(today));
  const [draft, setDraft] = useState<EventDraft | null>(null);
  const [deleting, setDeleting] = useState<CalendarEvent | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);

  const weeks = useMemo(() => buildMonth(ref), [ref.year, ref.month]);
  const range = gridRange(weeks);
  const events = useApi((signal) => call(api.GET('/api/events', { params: { query: range }, signal })), [range.from, range.to]);
  const placed = useMemo(() => placeEvents(events.data ?? [], range.from, range.to), [events.data, range.from, range.to]);

  const tag = intlLocale(locale);
  const monthTitle = new Intl.DateTimeFormat(tag, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(ref.year, ref.month - 1, 1)));
  const weekdayLong = new Intl.DateTimeFormat(tag, { weekday: 'long', timeZone: 'UTC' });
  const weekdayShort = new Intl.DateTimeFormat(tag, { weekday: 'short', timeZone: 'UTC' });
  const headers = (weeks[0] ?? []).map((d) => ({ long: weekdayLong.format(new Date(`${d.date}T00:00:00Z`)), short: weekdayShort.format(new Date(`${d.date}T00:00:00Z`)) }));
  const monthPrefix = `${ref.year}-${String(ref.month).padStart(2, '0')}`;
  const agenda = (events.data ?? [])
    .filter((e) => e.date.slice(0, 7) <= monthPrefix && lastDayOf(e).slice(0, 7) >= monthPrefix)
    .sort((a, b) => a.date.localeCompare(b.date));

  async function remove() {
    const e = deleting;
    if (!e) return;
    setDeleteBusy(true);
    try {
      await call(api.DELETE('/api/events/{event_id}', { params: { path: { event_id: e.event_id } } }));
      toast.show(t('deleted', { name: e.name }), 'success');
      setDeleting(null);
      events.reload();
    } catch (err) {
      toast.show(errorMessage(err), 'error');
    } finally {
      setDeleteBusy(false);
    }
  }

  const chip = (p: Placed<CalendarEvent>) => {
    const e = p.event;
    return (
      <li key={e.event_id}>
        <button type="button" class={`ev-chip ev-${e.type} seg-${p.segment}${e.include_in_prediction ? '' : ' ev-off'}`} onClick={() => setDraft({ event: e })}>
          <span class="ev-glyph" aria-hidden="true">
            {GLYPH[e.type]}
          </span>
          <span class="ev-name">{e.name}</span>
          <span class="visually-hidden">
            ({t(`type_${e.type}`)}, {e.include_in_prediction ? t('feedsForecast') : t('notInForecast')})
          </span>
          {e.include_in_prediction && (
            <span class="ev-forecast" aria-hidden="true">
              <Icon name="prediction" size={13} />
            </span>
          )}
        </button>
      </li>
    );
  };

  return (
    <>
      <PageHeader
        title={tn('calendar')}
        lead={t('lead')}
        actions={
          <button type="button" onClick={() => setDraft({ date: today.slice(0, 7) === monthPrefix ? today : `${monthPrefix}-01` })}>
            + {t('newEvent')}
          </button>
        }
      />
      <div class="cal-toolbar">
        <div class="cal-nav">
          <button type="button" class="secondary outline" onClick={() => setRef(addMonths(ref, -1))} aria-label={t('previous')}>
            ‹
          </button>
          <button type="button" class="secondary outline" onClick={() => setRef(monthOf(today))}>
            {t('today')}
          </button>
          <button type="button" class="secondary outline" onClick={() => setRef(addMonths(ref, 1))} aria-label={t('next')}>
            ›
          </button>
          <h2 class="cal-title" aria-live="polite">
            {monthTitle}
          </h2>
        </div>
        <ul class="cal-legend" aria-label={t('legend')}>
          {EVENT_TYPES.map((ty) => (
            <li key={ty} class={`ev-key ev-${ty}`}>
              <span class="ev-glyph" aria-hidden="true">
                {GLYPH[ty]}
              </span>
              {t(`type_${ty}`)}
            </li>
          ))}
          <li class="ev-key">
            <Icon name="prediction" size={14} />
            {t('feedsForecastLegend')}
          </li>
        </ul>
      </div>

      {events.error ? (
        <ErrorState error={events.error} onRetry={events.reload} />
      ) : !events.data ? (
        <LoadingState />
      ) : (
        <>
          <div class="cal-wrap" aria-busy={events.loading ? 'true' : undefined}>
            <table class="cal-grid">
              <caption class="visually-hidden">{t('monthCaption', { month: monthTitle })}</caption>
              <thead>
                <tr>
                  {headers.map((h) => (
                    <th key={h.long} scope="col" abbr={h.long}>
                      {h.short}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {weeks.map((w) => (
                  <tr key={w[0]?.date}>
                    {w.map((d) => {
                      const list = placed.get(d.date) ?? [];
                      const shown = list.length > MAX_PER_DAY + 1 ? list.slice(0, MAX_PER_DAY) : list;
                      const isToday = d.date === today;
                      return (
                        <td key={d.date} class={`${d.inMonth ? '' : 'out'}${isToday ? ' today' : ''}${d.weekday >= 5 ? ' weekend' : ''}`} aria-current={isToday ? 'date' : undefined}>
                          <button type="button" class="day-num" onClick={() => setDraft({ date: d.date })} aria-label={t('addOn', { date: f.date(d.date) })}>
                            {d.day}
                          </button>
                          {shown.length > 0 && <ul class="ev-list">{shown.map(chip)}</ul>}
                          {list.length > shown.length && <span class="ev-more">{t('more', { n: list.length - shown.length })}</span>}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <section class="cal-agenda card" aria-labelledby="agenda-h">
            <h2 id="agenda-h">{t('agenda')}</h2>
            {agenda.length === 0 ? (
              <p class="muted">{t('noEvents')}</p>
            ) : (
              <ul>
                {agenda.map((e) => (
                  <li key={e.event_id}>
                    <button type="button" class={`ev-row ev-${e.type}${e.include_in_prediction ? '' : ' ev-off'}`} onClick={() => setDraft({ event: e })}>
                      <span class="ev-when">
                        {f.date(e.date, 'short')}
                        {e.end_date && e.end_date > e.date && ` – ${f.date(e.end_date, 'short')}`}
                      </span>
                      <span class="ev-name">{e.name}</span>
                      <span class="ev-type">
                        <span aria-hidden="true">{GLYPH[e.type]} </span>
                        {t(`type_${e.type}`)}
                      </span>
                      {e.include_in_prediction ? (
                        <span class="ev-forecast">
                          <Icon name="prediction" size={14} />
                          <span class="visually-hidden">{t('feedsForecast')}</span>
                        </span>
                      ) : (
                        <span class="visually-hidden">{t('notInForecast')}</span>
                      )}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}

      <EventForm
        draft={draft}
        onClose={() => setDraft(null)}
        onSaved={() => (setDraft(null), events.reload())}
        onDelete={(e) => (setDraft(null), setDeleting(e))}
      />
      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? t('deleteTitle', { name: deleting.name }) : ''}
        confirmLabel={t('delete')}
        danger
        busy={deleteBusy}
        onConfirm={() => void remove()}
        onCancel={() => setDeleting(null)}
      >
        <p>{t('deleteBody')}</p>
      </ConfirmDialog>
    </>
  );
}
