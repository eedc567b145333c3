import './prediction.css';
import { useCallback, useMemo, useState } from 'preact/hooks';
import { api, call, isApiError } from '../../api/client';
import type { components } from '../../api/schema';
import { useFormat } from '../../app/store';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState, useErrorMessage } from '../../components/ErrorState';
import { LoadingState } from '../../components/LoadingState';
import { PageHeader } from '../../components/PageHeader';
import { useToast } from '../../components/Toast';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { nav } from '../../i18n/messages/nav';
import { prediction } from '../../i18n/messages/prediction';
import { persisted } from '../../lib/persisted';
import { RecommendationCard, RecommendationTable } from './Advice';
import { ForecastChart } from './ForecastChart';
import { HorizonPicker, ProductPicker } from './ForecastControls';
import { RestockDialog } from './RestockDialog';
import { accuracyWords, formatPercent, formatUnits, toSeries } from './series';
import { TaskPanel, type ActiveTask } from './TaskPanel';
import { productLabel } from '../../lib/productLabel';

type Prediction = components['schemas']['Prediction'];
type Recommendation = components['schemas']['Recommendation'];
type TaskStatus = components['schemas']['TaskStatus'];

const savedSku = persisted<string | null>('prediction.sku', null);
const savedDays = persisted<number>('prediction.days', 30);
/** A training task survives a reload: its panel keeps polling where it left off. */
const savedTask = persisted<ActiveTask | null>('prediction.task', null);

export default function PredictionScreen() {
  const t = useT(prediction);
  const tn = useT(nav);
  const f = useFormat();
  const toast = useToast();
  const message = useErrorMessage();
  // The form's choice, and the forecast being shown (run by the Forecast button; the
  // last one is remembered and shown again on return).
  const [draftSku, setDraftSku] = useState<string | null>(() => savedSku.get());
  const [draftDays, setDraftDays] = useState<number>(() => savedDays.get());
  const [run, setRun] = useState<{ sku: string; days: number; n: number } | null>(() => {
    const s = savedSku.get();
    return s ? { sku: s, days: savedDays.get(), n: 0 } : null;
  });
  const sku = run?.sku ?? null;
  const days = run?.days ?? 7;
  const [task, setTaskState] = useState<ActiveTask | null>(() => savedTask.get());
  const [restock, setRestock] = useState<Recommendation | null>(null);
  const [starting, setStarting] = useState(false);

  const forecast = useCallback((s: string, d: number) => {
    savedSku.set(s);
    savedDays.set(d);
    setDraftSku(s);
    setDraftDays(d);
    setRun((r) => ({ sku: s, days: d, n: (r?.n ?? 0) + 1 }));
  }, []);
  const setTask = useCallback((x: ActiveTask | null) => (savedTask.set(x), setTaskState(x)), []);

  const recs = useApi(
    (signal) => call(api.GET('/api/recommendations', { params: { query: { days } }, signal })),
    [days],
  );
  const pred = useApi<Prediction | null>(
    (signal) => (run ? call(api.POST('/api/predict', { body: { product_sku: run.sku, days: run.days }, signal })) : Promise.resolve(null)),
    [run?.sku, run?.days, run?.n],
  );

  const train = async (kind: ActiveTask['kind']) => {
    setStarting(true);
    try {
      const accepted =
        kind === 'train_all'
          ? await call(api.POST('/api/tasks/training/all'))
          : await call(api.POST('/api/tasks/training/product/{sku}', { params: { path: { sku: sku ?? '' } } }));
      setTask(kind === 'train_all' ? { id: accepted.task_id, kind } : { id: accepted.task_id, kind, sku: sku ?? '' });
    } catch (e) {
      toast.show(message(e), 'error');
    } finally {
      setStarting(false);
    }
  };

  const onTaskFinished = useCallback(
    (status: TaskStatus) => {
      if (status === 'succeeded') {
        toast.show(t('trainDone'), 'success');
        pred.reload();
        recs.reload();
      } else if (status === 'cancelled') {
        toast.show(t('trainCancelled'), 'info');
      }
    },
    [pred.reload, recs.reload, toast, t],
  );

  const training = task !== null;

  return (
    <>
      <PageHeader
        title={tn('prediction')}
        lead={t('lead')}
        actions={
          <button
            type="button"
            class="secondary"
            onClick={() => void train('train_all')}
            disabled={starting || training}
            aria-busy={starting ? 'true' : undefined}
          >
            {t('trainAll')}
          </button>
        }
      />
      <div class="predict">
        {task && <TaskPanel key={task.id} task={task} onFinished={onTaskFinished} onDismiss={() => setTask(null)} />}

        <section class="card" aria-labelledby="forecast-h">
          <h2 id="forecast-h">{t('forecastTitle')}</h2>
          <form
            class="forecast-controls"
            onSubmit={(e) => {
              e.preventDefault();
              if (draftSku) forecast(draftSku, draftDays);
            }}
          >
            <ProductPicker value={draftSku} onChange={setDraftSku} />
            <HorizonPicker value={draftDays} onChange={setDraftDays} />
            <button type="submit" class="forecast-run" disabled={!draftSku} aria-busy={pred.loading && run ? 'true' : undefined}>
              {t('run')}
            </button>
          </form>
          {!sku ? (
            <EmptyState title={t('pickProduct')} />
          ) : pred.error ? (
            isApiError(pred.error) && pred.error.code === 'conflict' ? (
              <div class="state empty no-model" role="status">
                <p>
                  <strong>{t('noModelTitle')}</strong>
                </p>
                <p>{t('noModelBody')}</p>
                <button type="button" onClick={() => void train('train_product')} disabled={starting || training}>
                  {t('trainNow')}
                </button>
              </div>
            ) : (
              <ErrorState error={pred.error} onRetry={pred.reload} />
            )
          ) : !pred.data || (pred.loading && pred.data.product_sku !== sku) ? (
            <LoadingState label={t('forecasting')} />
          ) : (
            <div aria-busy={pred.loading ? 'true' : undefined}>
              <ForecastBody
                data={pred.data}
                days={days}
                productName={pred.data.recommendations[0] ? productLabel(pred.data.recommendations[0].product, pred.data.recommendations[0].product_variation) : pred.data.product_sku}
                onRestock={setRestock}
                onTrain={() => void train('train_product')}
                trainDisabled={starting || training}
              />
            </div>
          )}
        </section>

        <section class="card" aria-labelledby="recs-h">
          <div class="section-head">
            <h2 id="recs-h">{t('recsTitle')}</h2>
            {recs.data && <p class="muted">{t('recsLead', { n: recs.data.horizon_days })}</p>}
          </div>
          {recs.error ? (
            <ErrorState error={recs.error} onRetry={recs.reload} />
          ) : !recs.data ? (
            <LoadingState />
          ) : (
            <div aria-busy={recs.loading ? 'true' : undefined}>
              <RecommendationTable list={recs.data} selected={sku} onForecast={(s) => forecast(s, days)} onRestock={setRestock} />
            </div>
          )}
        </section>
      </div>

      <RestockDialog
        rec={restock}
        onClose={() => setRestock(null)}
        onDone={(p) => {
          setRestock(null);
          toast.show(t('restocked', { name: p.name, stock: f.number(p.stock) }), 'success');
          recs.reload();
          if (p.sku === sku) pred.reload();
        }}
      />
    </>
  );
}

function ForecastBody(props: {
  data: Prediction;
  days: number;
  productName: string;
  onRestock: (r: Recommendation) => void;
  onTrain: () => void;
  trainDisabled: boolean;
}) {
  const t = useT(prediction);
  const f = useFormat();
  const d = props.data;
  const series = useMemo(() => toSeries(d.chartData), [d.chartData]);
  const words = accuracyWords(d.accuracy, f.locale, t);
  const rec = d.recommendations[0];
  return (
    <>
      <ForecastChart series={series} product={props.productName} days={props.days} />
      <div class="forecast-details">
        <section class="card detail-card">
          <div class="detail-head">
            <h3 id="acc-h">{t('accuracyTitle')}</h3>
            <span class={`score-badge ${words.beatsNaive ? 'good' : 'weak'}`}>
              {t('score')} {t('scoreOf', { score: formatUnits(d.accuracy.score, f.locale) })}
            </span>
          </div>
          <p>{words.sentence}</p>
          <p class="muted">{words.comparison}</p>
          <p class="metrics muted">
            <small>
              {t('metricsDetail', {
                smape: formatPercent(d.accuracy.smape, f.locale),
                mase: formatUnits(d.accuracy.mase, f.locale),
                wape: formatPercent(d.accuracy.wape, f.locale),
                mae: formatUnits(d.accuracy.mae, f.locale),
              })}
            </small>
          </p>
        </section>
        <section class="card detail-card">
          <div class="detail-head">
            <h3 id="model-h">{t('modelTitle')}</h3>
          </div>
          <p>{t('modelLine', { version: d.model.version, kind: d.model.kind })}</p>
          <p class="muted">
            {t('trainedAt', { when: f.dateTime(d.model.trained_at) })}
            {d.model.trained_through ? ` · ${t('trainedThrough', { date: f.date(d.model.trained_through) })}` : ''}
          </p>
          <button type="button" class="secondary outline" onClick={props.onTrain} disabled={props.trainDisabled}>
            {t('trainNow')}
          </button>
        </section>
        {rec && <RecommendationCard rec={rec} onRestock={props.onRestock} />}
      </div>
    </>
  );
}
