import { useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { useFormat } from '../../app/store';
import { ErrorState } from '../../components/ErrorState';
import { LoadingState } from '../../components/LoadingState';
import { Money } from '../../components/Money';
import { PageHeader } from '../../components/PageHeader';
import { Receipt } from '../../components/Receipt';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { transactions } from '../../i18n/messages/transactions';

/** One sale: its lines, totals, who and where; the receipt (printable) on demand. */
export default function TransactionDetail(props: { id: number; backHref: string }) {
  const t = useT(transactions);
  const f = useFormat();
  const [showReceipt, setShowReceipt] = useState(false);
  const sale = useApi(
    (signal) => call(api.GET('/api/transactions/{transaction_id}', { params: { path: { transaction_id: props.id } }, signal })),
    [props.id],
  );
  const s = sale.data;
  const source = (v: string) => (v === 'pos' ? t('sourcePos') : v === 'import' ? t('sourceImport') : v === 'demo' ? t('sourceDemo') : v);

  return (
    <>
      <p class="back-link">
        <a href={props.backHref}>← {t('back')}</a>
      </p>
      <PageHeader
        title={t('detailTitle', { id: props.id })}
        lead={s ? f.dateTime(s.created_at) : undefined}
        actions={
          s && (
            <button type="button" class={showReceipt ? 'secondary outline' : 'secondary'} aria-expanded={showReceipt} onClick={() => setShowReceipt(!showReceipt)}>
              {showReceipt ? t('hideReceipt') : t('receipt')}
            </button>
          )
        }
      />
      {sale.error ? (
        <ErrorState error={sale.error} onRetry={sale.reload} />
      ) : !s ? (
        <LoadingState />
      ) : (
        <div class="tx-detail">
          {showReceipt && (
            <div class="card">
              <Receipt sale={s} />
            </div>
          )}
          <div class="tx-detail-grid">
            <section class="card" aria-labelledby="tx-lines-h">
              <h2 id="tx-lines-h">{t('lines')}</h2>
              <div class="table-wrap">
                <table class="data-table">
                  <thead>
                    <tr>
                      <th scope="col">{t('product')}</th>
                      <th scope="col" class="num">
                        {t('quantity')}
                      </th>
                      <th scope="col" class="num">
                        {t('unitPrice')}
                      </th>
                      <th scope="col" class="num">
                        {t('lineTotal')}
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.items.map((l, i) => (
                      <tr key={`${l.product_sku}-${l.is_promo}-${i}`}>
                        <td>
                          {l.product_name}
                          {l.product_variation && ` ${l.product_variation}`}
                          <small class="muted"> · {l.product_sku}</small>
                          {l.is_promo && <span class="promo-badge">{t('promo')}</span>}
                        </td>
                        <td class="num">{f.number(l.quantity)}</td>
                        <td class="num">
                          <Money value={l.unit_price} />
                        </td>
                        <td class="num">
                          <Money value={l.line_total} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
            <section class="card" aria-labelledby="tx-sum-h">
              <h2 id="tx-sum-h">{t('payment')}</h2>
              <dl class="tx-summary">
                <div class="tx-total">
                  <dt>{t('total')}</dt>
                  <dd>
                    <Money value={s.total} />
                  </dd>
                </div>
                <div>
                  <dt>{t('paid')}</dt>
                  <dd>
                    <Money value={s.paid_amount} />
                  </dd>
                </div>
                <div>
                  <dt>{t('change')}</dt>
                  <dd>
                    <Money value={s.change} />
                  </dd>
                </div>
                <div>
                  <dt>{t('cashier')}</dt>
                  <dd>{s.cashier ?? t('noCashier')}</dd>
                </div>
                <div>
                  <dt>{t('source')}</dt>
                  <dd>{source(s.source)}</dd>
                </div>
                <div>
                  <dt>{t('businessDate')}</dt>
                  <dd>{f.date(s.business_date)}</dd>
                </div>
              </dl>
            </section>
          </div>
        </div>
      )}
    </>
  );
}
