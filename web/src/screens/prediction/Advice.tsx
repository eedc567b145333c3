import type { components } from '../../api/schema';
import { useFormat } from '../../app/store';
import { EmptyState } from '../../components/EmptyState';
import { useT } from '../../i18n';
import { prediction } from '../../i18n/messages/prediction';
import { productLabel } from '../../lib/productLabel';

type Recommendation = components['schemas']['Recommendation'];
type RecommendationList = components['schemas']['RecommendationList'];

/** Urgency as text and colour (never colour alone). */
export function UrgencyBadge(props: { urgency: Recommendation['urgency'] }) {
  const t = useT(prediction);
  return <span class={`urgency-badge ${props.urgency}`}>{t(`urgency_${props.urgency}`)}</span>;
}

/** The advice in words, from the API's fields (its own `suggestion` text is English only). */
export function useSuggestion() {
  const t = useT(prediction);
  const f = useFormat();
  return (r: Recommendation) =>
    r.gap > 0
      ? r.stockout_date
        ? t('suggestRestockBy', { gap: f.number(r.gap), date: f.date(r.stockout_date) })
        : t('suggestRestock', { gap: f.number(r.gap), n: r.horizon_days })
      : t('suggestEnough', { n: r.horizon_days });
}

/** The selected product's recommendation: stock now, optimal, gap, urgency, stockout. */
export function RecommendationCard(props: { rec: Recommendation; onRestock: (r: Recommendation) => void }) {
  const t = useT(prediction);
  const f = useFormat();
  const suggestion = useSuggestion();
  const r = props.rec;
  return (
    <section class="card detail-card">
      <div class="detail-head">
        <h3 id="rec-h">{t('recTitle')}</h3>
        <UrgencyBadge urgency={r.urgency} />
      </div>
      <dl class="facts">
        <div>
          <dt>{t('current')}</dt>
          <dd>{f.number(r.current)}</dd>
        </div>
        <div>
          <dt>{t('optimal')}</dt>
          <dd>{f.number(r.optimal)}</dd>
        </div>
        <div>
          <dt>{t('gap')}</dt>
          <dd>{r.gap > 0 ? f.number(r.gap) : '—'}</dd>
        </div>
        <div>
          <dt>{t('stockout')}</dt>
          <dd>{r.stockout_date ? f.date(r.stockout_date) : t('noStockout', { n: r.horizon_days })}</dd>
        </div>
      </dl>
      <p class="suggestion">{suggestion(r)}</p>
      <button type="button" class={r.gap > 0 ? undefined : 'secondary outline'} onClick={() => props.onRestock(r)}>
        {t('restock')}
      </button>
    </section>
  );
}

/** Every product's advice, most urgent first (the API's order), with Forecast and Restock. */
export function RecommendationTable(props: {
  list: RecommendationList;
  selected: string | null;
  onForecast: (sku: string) => void;
  onRestock: (r: Recommendation) => void;
}) {
  const t = useT(prediction);
  const f = useFormat();
  const { items, without_model } = props.list;
  return (
    <>
      {items.length === 0 ? (
        <EmptyState title={t('recsEmpty')} />
      ) : (
        <div class="table-wrap">
          <table class="data-table recs-table">
            <thead>
              <tr>
                <th scope="col">{t('colProduct')}</th>
                <th scope="col">{t('urgency')}</th>
                <th scope="col" class="num">{t('current')}</th>
                <th scope="col" class="num">{t('optimal')}</th>
                <th scope="col" class="num">{t('gap')}</th>
                <th scope="col">{t('stockout')}</th>
                <th scope="col">
                  <span class="visually-hidden">{t('colAction')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.product_sku} aria-current={props.selected === r.product_sku ? 'true' : undefined}>
                  <th scope="row">
                    <span class="rec-name">{productLabel(r.product, r.product_variation)}</span>
                    <small class="muted">{r.product_sku}</small>
                  </th>
                  <td>
                    <UrgencyBadge urgency={r.urgency} />
                  </td>
                  <td class="num">{f.number(r.current)}</td>
                  <td class="num">{f.number(r.optimal)}</td>
                  <td class="num">{r.gap > 0 ? f.number(r.gap) : '—'}</td>
                  <td>{r.stockout_date ? f.date(r.stockout_date) : <span class="muted">—</span>}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="secondary outline"
                      aria-label={t('forecastItem', { name: productLabel(r.product, r.product_variation) })}
                      onClick={() => props.onForecast(r.product_sku)}
                    >
                      {t('forecast')}
                    </button>
                    <button
                      type="button"
                      class={r.gap > 0 ? undefined : 'secondary'}
                      aria-label={t('restockItem', { name: productLabel(r.product, r.product_variation) })}
                      onClick={() => props.onRestock(r)}
                    >
                      {t('restock')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {without_model.length > 0 && (
        <p class="muted without-model">{t('withoutModel', { n: without_model.length, skus: without_model.join(', ') })}</p>
      )}
    </>
  );
}
