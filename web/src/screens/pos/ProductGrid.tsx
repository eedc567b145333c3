import type { RefObject } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useFormat } from '../../app/store';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { LoadingState } from '../../components/LoadingState';
import { Money } from '../../components/Money';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { pos } from '../../i18n/messages/pos';
import { useDebounced } from './usePos';

export type Product = components['schemas']['ProductView'];

const PAGE = 48;

/** Search (name / SKU / barcode), category chips and the product tiles. */
export function ProductGrid(props: {
  search: string;
  onSearch: (v: string) => void;
  searchRef: RefObject<HTMLInputElement | null>;
  onAdd: (p: Product) => void;
  locked: boolean;
}) {
  const t = useT(pos);
  const f = useFormat();
  const [category, setCategory] = useState('');
  const [limit, setLimit] = useState(PAGE);
  const search = useDebounced(props.search.trim(), 250);
  useEffect(() => setLimit(PAGE), [search, category]);

  const categories = useApi((signal) => call(api.GET('/api/categories', { signal })), []);
  const products = useApi(
    (signal) =>
      call(
        api.GET('/api/products', {
          params: { query: { search: search || undefined, category: category || undefined, limit } },
          signal,
        }),
      ),
    [search, category, limit],
  );
  const page = products.data;

  return (
    <section class="pos-catalog" aria-labelledby="pos-products-h">
      <h2 id="pos-products-h" class="visually-hidden">
        {t('products')}
      </h2>
      <form role="search" class="pos-search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span class="visually-hidden">{t('search')}</span>
          <input
            ref={props.searchRef}
            type="search"
            data-scan="search"
            value={props.search}
            placeholder={t('searchPlaceholder')}
            aria-keyshortcuts="F2 /"
            title={`${t('search')} (F2, /)`}
            autocomplete="off"
            enterKeyHint="search"
            onInput={(e) => props.onSearch(e.currentTarget.value)}
          />
        </label>
      </form>
      {categories.data && categories.data.length > 0 && (
        <div role="group" aria-label={t('category')} class="chips">
          {[{ name: '', label: t('allCategories') }, ...categories.data.map((c) => ({ name: c.name, label: c.name }))].map(
            (c) => (
              <button
                key={c.name || '*'}
                type="button"
                class={category === c.name ? 'chip' : 'chip secondary outline'}
                aria-pressed={category === c.name}
                onClick={() => setCategory(c.name)}
              >
                {c.label}
              </button>
            ),
          )}
        </div>
      )}
      <div class="pos-grid-scroll" aria-busy={products.loading && page ? 'true' : undefined}>
        {products.error && !page ? (
          <ErrorState error={products.error} onRetry={products.reload} />
        ) : !page ? (
          <LoadingState />
        ) : page.items.length === 0 ? (
          <EmptyState title={t('noProducts')} />
        ) : (
          <>
            <ul class="product-grid">
              {page.items.map((p) => {
                const out = p.stock <= 0;
                return (
                  <li key={p.sku}>
                    <button
                      type="button"
                      class={`product-tile${out ? ' out' : ''}`}
                      disabled={out || props.locked}
                      title={t('addToCart', { name: p.name })}
                      onClick={() => props.onAdd(p)}
                    >
                      <span class="tile-name">{p.name}</span>
                      <span class="tile-variation">{p.variation ?? p.sku}</span>
                      <span class="tile-foot">
                        <Money value={p.price} class="tile-price" />
                        <span class={out ? 'stock-badge critical' : 'tile-stock'}>
                          {out ? t('outOfStock') : t('inStock', { n: f.number(p.stock) })}
                        </span>
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
            {page.total > page.items.length && limit < 500 && (
              <button
                type="button"
                class="secondary outline show-more"
                aria-busy={products.loading ? 'true' : undefined}
                onClick={() => setLimit((l) => Math.min(500, l + PAGE))}
              >
                {t('showMore')}
              </button>
            )}
          </>
        )}
      </div>
    </section>
  );
}
