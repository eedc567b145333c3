import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useSession } from '../../app/session';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState, useErrorMessage } from '../../components/ErrorState';
import { LoadingState } from '../../components/LoadingState';
import { Money } from '../../components/Money';
import { PageHeader } from '../../components/PageHeader';
import { Pagination } from '../../components/Pagination';
import { useToast } from '../../components/Toast';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { nav } from '../../i18n/messages/nav';
import { products as m } from '../../i18n/messages/products';
import { CategoriesPanel } from './CategoriesPanel';
import { ProductDetail } from './ProductDetail';
import { ProductForm } from './ProductForm';
import { StockCell } from './StockBadge';
import { StockDialog } from './StockDialog';

type Product = components['schemas']['ProductView'];
const PAGE = 25;

/**
 * /products                 the list (search, filters, pagination; admin actions)
 * /products?view=categories categories (admin)
 * /products?sku=BRD-001     one product and its stock ledger (admin)
 */
/** The stock filter: every product, at or below the threshold, or one stock status. */
type StockFilter = 'all' | 'low_or_out' | 'out' | 'low' | 'fine';

/** `?low_stock=true` or `?stock_status=out|low|fine` (the dashboard's stock-health links). */
function stockFilterFrom(query: Record<string, string>): StockFilter {
  const status = query['stock_status'];
  if (status === 'out' || status === 'low' || status === 'fine') return status;
  return query['low_stock'] === 'true' ? 'low_or_out' : 'all';
}

export default function ProductsScreen() {
  const { query } = useLocation();
  const { isAdmin } = useSession();
  const categories = useApi((signal) => call(api.GET('/api/categories', { signal })), []);
  const names = useMemo(() => (categories.data ?? []).map((c) => c.name), [categories.data]);

  if (query['sku']) return <ProductDetail sku={query['sku']} categories={names} />;
  const view = isAdmin && query['view'] === 'categories' ? 'categories' : 'products';
  return (
    <ProductsHome
      view={view}
      categories={categories}
      names={names}
      initialCategory={query['category'] ?? ''}
      initialStock={stockFilterFrom(query)}
      onChanged={categories.reload}
    />
  );
}

function ProductsHome(props: {
  view: 'products' | 'categories';
  categories: ReturnType<typeof useApi<components['schemas']['CategoryView'][]>>;
  names: readonly string[];
  initialCategory: string;
  initialStock: StockFilter;
  onChanged: () => void;
}) {
  const t = useT(m);
  const tn = useT(nav);
  const { isAdmin } = useSession();
  const [creating, setCreating] = useState(false);
  const [version, setVersion] = useState(0);
  return (
    <>
      <PageHeader
        title={tn('products')}
        lead={t('lead')}
        actions={
          isAdmin &&
          props.view === 'products' && (
            <button type="button" onClick={() => setCreating(true)}>
              + {t('newProduct')}
            </button>
          )
        }
      />
      {isAdmin && (
        <nav class="tabs" aria-label={tn('products')}>
          <a href="/products" aria-current={props.view === 'products' ? 'page' : undefined}>
            {t('tabProducts')}
          </a>
          <a href="/products?view=categories" aria-current={props.view === 'categories' ? 'page' : undefined}>
            {t('tabCategories')}
          </a>
        </nav>
      )}
      {props.view === 'categories' ? (
        <CategoriesPanel categories={props.categories} />
      ) : (
        <ProductList
          key={`${props.initialCategory}|${props.initialStock}`}
          names={props.names}
          initialCategory={props.initialCategory}
          initialStock={props.initialStock}
          version={version}
          onChanged={() => (setVersion((v) => v + 1), props.onChanged())}
        />
      )}
      {isAdmin && (
        <ProductForm
          open={creating}
          product={null}
          categories={props.names}
          onClose={() => setCreating(false)}
          onSaved={() => {
            setCreating(false);
            setVersion((v) => v + 1);
            props.onChanged();
          }}
        />
      )}
    </>
  );
}

function ProductList(props: {
  names: readonly string[];
  initialCategory: string;
  initialStock: StockFilter;
  version: number;
  onChanged: () => void;
}) {
  const t = useT(m);
  const { isAdmin } = useSession();
  const toast = useToast();
  const errorMessage = useErrorMessage();
  const [searchInput, setSearchInput] = useState('');
  const [search, setSearch] = useState('');
  const [category, setCategory] = useState(props.initialCategory);
  const [stock, setStock] = useState<StockFilter>(props.initialStock);
  const [includeInactive, setIncludeInactive] = useState(false);
  const [offset, setOffset] = useState(0);
  const [editing, setEditing] = useState<Product | null>(null);
  const [stockFor, setStockFor] = useState<Product | null>(null);
  const [removing, setRemoving] = useState<Product | null>(null);
  const [removeBusy, setRemoveBusy] = useState(false);

  useEffect(() => {
    const id = setTimeout(() => setSearch(searchInput.trim()), 250);
    return () => clearTimeout(id);
  }, [searchInput]);
  useEffect(() => setOffset(0), [search, category, stock, includeInactive]);

  const list = useApi(
    (signal) =>
      call(
        api.GET('/api/products', {
          params: {
            query: {
              search: search || undefined,
              category: category || undefined,
              low_stock: stock === 'low_or_out' || undefined,
              stock_status: stock === 'all' || stock === 'low_or_out' ? undefined : stock,
              include_inactive: (isAdmin && includeInactive) || undefined,
              limit: PAGE,
              offset,
            },
          },
          signal,
        }),
      ),
    [search, category, stock, includeInactive, offset, props.version],
  );
  const changed = () => {
    list.reload();
    props.onChanged();
  };

  async function remove() {
    const p = removing;
    if (!p) return;
    setRemoveBusy(true);
    try {
      const r = await call(api.DELETE('/api/products/{sku}', { params: { path: { sku: p.sku } } }));
      toast.show(r.outcome === 'deleted' ? t('outcomeDeleted', { sku: r.sku }) : t('outcomeDeactivated', { sku: r.sku }), 'success');
      setRemoving(null);
      changed();
    } catch (e) {
      toast.show(errorMessage(e), 'error');
    } finally {
      setRemoveBusy(false);
    }
  }

  async function reactivate(p: Product) {
    try {
      await call(api.PUT('/api/products/{sku}', { params: { path: { sku: p.sku } }, body: { is_active: true } }));
      toast.show(t('reactivated', { sku: p.sku }), 'success');
      changed();
    } catch (e) {
      toast.show(errorMessage(e), 'error');
    }
  }

  const filtered = search || category || stock !== 'all';
  const rows = list.data?.items ?? [];

  return (
    <>
      <form class="toolbar" role="search" aria-label={t('filters')} onSubmit={(e) => e.preventDefault()}>
        <label class="grow">
          {t('search')}
          <input type="search" name="search" value={searchInput} placeholder={t('searchPlaceholder')} onInput={(e) => setSearchInput(e.currentTarget.value)} />
        </label>
        <label>
          {t('category')}
          <select name="category" value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
            <option value="">{t('allCategories')}</option>
            {props.names.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('stockFilter')}
          <select name="stock" value={stock} onChange={(e) => setStock(e.currentTarget.value as StockFilter)}>
            <option value="all">{t('stockAll')}</option>
            <option value="low_or_out">{t('lowStockOnly')}</option>
            <option value="out">{t('stockOut')}</option>
            <option value="low">{t('stockLow')}</option>
            <option value="fine">{t('stockFine')}</option>
          </select>
        </label>
        {isAdmin && (
          <label class="check">
            <input type="checkbox" role="switch" checked={includeInactive} onChange={(e) => setIncludeInactive(e.currentTarget.checked)} />
            {t('includeInactive')}
          </label>
        )}
      </form>
      <LowStockHint />

      {list.error ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <LoadingState />
      ) : rows.length === 0 ? (
        <EmptyState title={filtered ? t('empty') : t('emptyAll')} />
      ) : (
        <section class="card flush">
          <div class="table-wrap" aria-busy={list.loading ? 'true' : undefined}>
            <table class="data-table products-table">
              <caption class="visually-hidden">{t('tableCaption')}</caption>
              <thead>
                <tr>
                  <th scope="col" class="opt-sku">
                    {t('colSku')}
                  </th>
                  <th scope="col">{t('colName')}</th>
                  <th scope="col" class="opt-cat">
                    {t('colCategory')}
                  </th>
                  <th scope="col" class="opt">
                    {t('colBarcode')}
                  </th>
                  <th scope="col" class="num">
                    {t('colPrice')}
                  </th>
                  {isAdmin && (
                    <th scope="col" class="num">
                      {t('colCost')}
                    </th>
                  )}
                  <th scope="col" class="num">
                    {t('colStock')}
                  </th>
                  <th scope="col" class="opt-status">
                    {t('colStatus')}
                  </th>
                  {isAdmin && (
                    <th scope="col">
                      <span class="visually-hidden">{t('colActions')}</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.sku} class={p.is_active ? undefined : 'inactive'}>
                    <td class="mono nowrap opt-sku">{p.sku}</td>
                    <td>
                      <a href={`/products?sku=${encodeURIComponent(p.sku)}`}>{p.name}</a>
                      {p.variation && <small class="muted block">{p.variation}</small>}
                      <small class="muted block narrow-only">
                        <span class="mono">{p.sku}</span>
                        {p.category && ` · ${p.category}`}
                      </small>
                      {!p.is_active && <span class="status-pill off narrow-only">{t('inactive')}</span>}
                    </td>
                    <td class="opt-cat">{p.category ?? t('none')}</td>
                    <td class="mono opt">{p.barcode ?? t('none')}</td>
                    <td class="num">
                      <Money value={p.price} />
                    </td>
                    {isAdmin && <td class="num">{p.cost_price != null ? <Money value={p.cost_price} /> : t('none')}</td>}
                    <td class="num">
                      <StockCell stock={p.stock} status={p.stock_status} />
                    </td>
                    <td class="opt-status">{p.is_active ? <span class="status-pill on">{t('active')}</span> : <span class="status-pill off">{t('inactive')}</span>}</td>
                    {isAdmin && (
                      <td class="row-actions">
                        <div class="product-actions">
                          {p.is_active ? (
                            <>
                              <button type="button" class="small" onClick={() => setStockFor(p)} aria-label={`${t('stock')}: ${p.name}`}>
                                {t('stockShort')}
                              </button>
                              <button type="button" class="secondary outline small" onClick={() => setEditing(p)} aria-label={`${t('edit')}: ${p.name}`}>
                                {t('edit')}
                              </button>
                              <button type="button" class="secondary outline small danger-text" onClick={() => setRemoving(p)} aria-label={`${t('remove')}: ${p.name}`}>
                                {t('remove')}
                              </button>
                            </>
                          ) : (
                            <button type="button" class="secondary outline small" onClick={() => void reactivate(p)} aria-label={`${t('reactivate')}: ${p.name}`}>
                              {t('reactivate')}
                            </button>
                          )}
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pagination offset={offset} limit={PAGE} count={rows.length} total={list.data.total} busy={list.loading} onChange={setOffset} />
        </section>
      )}

      {isAdmin && (
        <>
          <ProductForm
            open={editing !== null}
            product={editing}
            categories={props.names}
            onClose={() => setEditing(null)}
            onSaved={() => (setEditing(null), changed())}
          />
          <StockDialog product={stockFor} onClose={() => setStockFor(null)} onDone={() => (setStockFor(null), changed())} />
          <ConfirmDialog
            open={removing !== null}
            title={removing ? t('removeTitle', { name: removing.name }) : ''}
            confirmLabel={t('removeConfirm')}
            danger
            busy={removeBusy}
            onConfirm={() => void remove()}
            onCancel={() => setRemoving(null)}
          >
            <p>{t('removeBody')}</p>
          </ConfirmDialog>
        </>
      )}
    </>
  );
}

/**
 * "Low: N or fewer" from the store's threshold, for information only: every row's badge is
 * the server's own `stock_status`. Nothing is shown while it loads or if it fails.
 */
function LowStockHint() {
  const t = useT(m);
  const stats = useApi((signal) => call(api.GET('/api/products/stats', { signal })), []);
  const n = stats.data?.low_stock_threshold;
  return n != null ? <p class="muted small">{t('lowHint', { n })}</p> : null;
}
