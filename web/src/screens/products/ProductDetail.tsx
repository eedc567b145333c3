import { useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useSession } from '../../app/session';
import { useFormat } from '../../app/store';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { LoadingState } from '../../components/LoadingState';
import { Money } from '../../components/Money';
import { PageHeader } from '../../components/PageHeader';
import { Pagination } from '../../components/Pagination';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { products as m } from '../../i18n/messages/products';
import { ProductForm } from './ProductForm';
import { StockCell } from './StockBadge';
import { StockDialog } from './StockDialog';

type Product = components['schemas']['ProductView'];
const LEDGER_PAGE = 25;

/** /products?sku=X: one product, its admin actions and (admins) its stock ledger. */
export function ProductDetail(props: { sku: string; categories: readonly string[] }) {
  const t = useT(m);
  const { isAdmin } = useSession();
  const [ledgerVersion, setLedgerVersion] = useState(0);
  const product = useApi((signal) => call(api.GET('/api/products/{sku}', { params: { path: { sku: props.sku } }, signal })), [props.sku]);
  const [editing, setEditing] = useState(false);
  const [stockFor, setStockFor] = useState<Product | null>(null);
  const p = product.data;

  return (
    <>
      <p class="back-link">
        <a href="/products">← {t('back')}</a>
      </p>
      {product.error ? (
        <ErrorState error={product.error} onRetry={product.reload} />
      ) : !p ? (
        <LoadingState />
      ) : (
        <>
          <PageHeader
            title={p.name}
            lead={t('detailLead', { sku: p.sku })}
            actions={
              isAdmin && (
                <>
                  <button type="button" class="secondary" onClick={() => setEditing(true)}>
                    {t('edit')}
                  </button>
                  <button type="button" onClick={() => setStockFor(p)} disabled={!p.is_active}>
                    {t('stock')}
                  </button>
                </>
              )
            }
          />
          <section class="card product-facts" aria-labelledby="facts-h">
            <h2 id="facts-h" class="visually-hidden">
              {t('details')}
            </h2>
            <dl>
              <div>
                <dt>{t('colStock')}</dt>
                <dd>
                  <StockCell stock={p.stock} status={p.stock_status} />
                </dd>
              </div>
              <div>
                <dt>{t('colPrice')}</dt>
                <dd>
                  <Money value={p.price} />
                </dd>
              </div>
              {isAdmin && p.cost_price != null && (
                <div>
                  <dt>{t('colCost')}</dt>
                  <dd>
                    <Money value={p.cost_price} />
                  </dd>
                </div>
              )}
              <div>
                <dt>{t('colCategory')}</dt>
                <dd>{p.category || t('none')}</dd>
              </div>
              <div>
                <dt>{t('variation')}</dt>
                <dd>{p.variation || t('none')}</dd>
              </div>
              <div>
                <dt>{t('colBarcode')}</dt>
                <dd class="mono">{p.barcode || t('none')}</dd>
              </div>
              <div>
                <dt>{t('colStatus')}</dt>
                <dd>{p.is_active ? t('active') : <span class="status-pill off">{t('inactive')}</span>}</dd>
              </div>
            </dl>
          </section>
          {isAdmin && <Ledger sku={p.sku} name={p.name} version={ledgerVersion} />}
          {isAdmin && (
            <>
              <ProductForm
                open={editing}
                product={p}
                categories={props.categories}
                onClose={() => setEditing(false)}
                onSaved={() => {
                  setEditing(false);
                  product.reload();
                }}
              />
              <StockDialog
                product={stockFor}
                onClose={() => setStockFor(null)}
                onDone={() => {
                  setStockFor(null);
                  product.reload();
                  setLedgerVersion((x) => x + 1);
                }}
              />
            </>
          )}
        </>
      )}
    </>
  );
}

const REASONS = ['restock', 'adjustment', 'sale', 'import'] as const;

function Ledger(props: { sku: string; name: string; version: number }) {
  const t = useT(m);
  const f = useFormat();
  const [offset, setOffset] = useState(0);
  const ledger = useApi(
    (signal) =>
      call(api.GET('/api/products/{sku}/stock', { params: { path: { sku: props.sku }, query: { limit: LEDGER_PAGE, offset } }, signal })),
    [props.sku, offset, props.version],
  );
  const reason = (r: string) => ((REASONS as readonly string[]).includes(r) ? t(`reason_${r as (typeof REASONS)[number]}`) : r);
  const page = ledger.data;
  const rows = page?.items ?? [];
  return (
    <section class="card ledger" aria-labelledby="ledger-h">
      <h2 id="ledger-h">{t('ledger')}</h2>
      {ledger.error ? (
        <ErrorState error={ledger.error} onRetry={ledger.reload} />
      ) : !page ? (
        <LoadingState />
      ) : page.total === 0 ? (
        <EmptyState title={t('ledgerEmpty')} />
      ) : (
        <>
          <div class="table-wrap" aria-busy={ledger.loading ? 'true' : undefined}>
            <table class="data-table">
              <caption class="visually-hidden">{t('ledgerCaption', { name: props.name })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('colWhen')}</th>
                  <th scope="col" class="num">
                    {t('colChange')}
                  </th>
                  <th scope="col" class="num">
                    {t('colBalance')}
                  </th>
                  <th scope="col">{t('colReason')}</th>
                  <th scope="col">{t('colUser')}</th>
                  <th scope="col">{t('colNote')}</th>
                  <th scope="col">{t('colTransaction')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.id}>
                    <td class="nowrap">{f.dateTime(r.created_at)}</td>
                    <td class={`num ${r.change < 0 ? 'chg-down' : 'chg-up'}`}>{r.change > 0 ? `+${f.number(r.change)}` : f.number(r.change)}</td>
                    <td class="num">{f.number(r.balance_after)}</td>
                    <td>{reason(r.reason)}</td>
                    <td>{r.user ?? t('none')}</td>
                    <td>{r.note ?? ''}</td>
                    <td>
                      {r.transaction_id != null ? (
                        <a href={`/transactions?id=${r.transaction_id}`}>{t('transactionLink', { id: r.transaction_id })}</a>
                      ) : (
                        t('none')
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pagination offset={page.offset} limit={page.limit} count={rows.length} total={page.total} busy={ledger.loading} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
