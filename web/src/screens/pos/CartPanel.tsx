import type { RefObject } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useFormat } from '../../app/store';
import { useErrorMessage } from '../../components/ErrorState';
import { useT } from '../../i18n';
import { pos } from '../../i18n/messages/pos';
import { common } from '../../i18n/messages/common';
import { isLocked, removeLine, setPaid, setPromo, setQuantity, type PosState, type Shortage } from './cart';
import type { Quote } from './usePos';
import { productLabel } from '../../lib/productLabel';

export type Phase = 'idle' | 'sending' | 'retrying' | 'unconfirmed';

/** Fixed banknotes offered as quick cash (not computed from the sale). */
const NOTES: Record<string, readonly string[]> = { IDR: ['20000', '50000', '100000'] };

/** "36000.00" → "36000" for the paid field (what a cashier would type). */
function plainAmount(v: string): string {
  return v.replace(/\.00$/, '');
}

export function CartPanel(props: {
  state: PosState;
  update: (change: (s: PosState) => PosState) => void;
  quote: { quote: Quote | null; fresh: boolean; updating: boolean; error: unknown; retry: () => void };
  paidValid: boolean;
  phase: Phase;
  refusal: { error: unknown; shortages: Shortage[] } | null;
  flash: { sku: string; n: number } | null;
  paidRef: RefObject<HTMLInputElement | null>;
  onPay: () => void;
  onClear: () => void;
}) {
  const t = useT(pos);
  const tc = useT(common);
  const f = useFormat();
  const message = useErrorMessage();
  const { state, update, quote: q } = props;
  const locked = isLocked(state);
  const busy = props.phase === 'sending' || props.phase === 'retrying';
  const quote = q.quote;

  // Short lines: the fresh quote's, or those of a refused checkout.
  const short = new Map<string, number>();
  if (q.fresh && quote) for (const s of quote.shortages) short.set(s.product_sku, s.available);
  for (const s of props.refusal?.shortages ?? []) short.set(s.product_sku, s.available);

  const lineTotal = (sku: string, promo: boolean, quantity: number) => {
    const item = quote?.items.find((i) => i.product_sku === sku && i.is_promo === promo && i.quantity === quantity);
    return item?.line_total ?? null;
  };

  const listRef = useRef<HTMLUListElement>(null);
  useEffect(() => {
    if (!props.flash) return;
    listRef.current?.querySelector('.just-added')?.scrollIntoView({ block: 'nearest' });
  }, [props.flash]);

  const paidEntered = state.paid.trim() !== '' && props.paidValid;
  const due = q.fresh && quote && paidEntered && Number(quote.amount_due) > 0 ? quote.amount_due : null;
  const notes = NOTES[f.currency] ?? [];

  return (
    <section class="pos-cart card" aria-labelledby="pos-cart-h">
      <header class="cart-head">
        <h2 id="pos-cart-h">{t('cart')}</h2>
        {state.lines.length > 0 && <span class="muted">{state.lines.length === 1 ? t('cartCountOne') : t('cartCount', { n: f.number(state.lines.length) })}</span>}
        <button
          type="button"
          class="secondary outline small"
          disabled={state.lines.length === 0 || locked}
          aria-keyshortcuts="F4"
          title={`${t('clearCart')} (F4)`}
          onClick={props.onClear}
        >
          {t('clearCart')}
        </button>
      </header>

      {state.lines.length === 0 ? (
        <p class="cart-empty muted">{t('cartEmpty')}</p>
      ) : (
        <ul class="cart-lines" ref={listRef}>
          {state.lines.map((l) => {
            const flashed = props.flash?.sku === l.sku;
            const total = lineTotal(l.sku, l.is_promo, l.quantity);
            const available = short.get(l.sku);
            const name = productLabel(l.name, l.variation);
            return (
              <li key={flashed ? `${l.sku}#${props.flash?.n}` : l.sku} class={`cart-line${flashed ? ' just-added' : ''}${available !== undefined ? ' short' : ''}`}>
                <div class="cart-line-top">
                  <span class="cart-line-name">
                    {l.name}
                    {l.variation && <small class="muted"> · {l.variation}</small>}
                  </span>
                  <span class={`cart-line-total money${total ? '' : ' pending'}`}>{total ? f.money(total) : '…'}</span>
                </div>
                <div class="cart-line-sub">
                  <span class="muted">
                    {f.number(l.quantity)} {t('each', { price: f.money(l.price) })}
                  </span>
                  {available !== undefined && (
                    <span class="stock-badge critical" role="note">
                      {t('shortage', { n: f.number(available) })}
                    </span>
                  )}
                </div>
                <div class="cart-line-controls">
                  <div class="qty">
                    <button
                      type="button"
                      class="secondary outline"
                      aria-label={t('decrease', { name })}
                      disabled={locked || l.quantity <= 1}
                      onClick={() => update((s) => setQuantity(s, l.sku, l.quantity - 1))}
                    >
                      −
                    </button>
                    <output aria-label={t('quantity', { name })}>{f.number(l.quantity)}</output>
                    <button
                      type="button"
                      class="secondary outline"
                      aria-label={t('increase', { name })}
                      disabled={locked}
                      onClick={() => update((s) => setQuantity(s, l.sku, l.quantity + 1))}
                    >
                      +
                    </button>
                  </div>
                  <label class="promo-toggle">
                    <input
                      type="checkbox"
                      role="switch"
                      checked={l.is_promo}
                      disabled={locked}
                      onChange={(e) => update((s) => setPromo(s, l.sku, e.currentTarget.checked))}
                    />
                    {t('promo')}
                  </label>
                  <button
                    type="button"
                    class="secondary outline remove"
                    aria-label={t('remove', { name })}
                    title={t('remove', { name })}
                    disabled={locked}
                    onClick={() => update((s) => removeLine(s, l.sku))}
                  >
                    ×
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      )}

      <form
        class="pos-pay"
        onSubmit={(e) => {
          e.preventDefault();
          props.onPay();
        }}
      >
        <div class="pay-total" aria-live="polite">
          <span>{t('total')}</span>
          <span class={`money pay-total-value${q.fresh ? '' : ' stale'}`}>
            {quote ? f.money(quote.total) : state.lines.length ? '…' : f.money('0')}
          </span>
          {q.updating && <small class="muted updating">{t('updating')}</small>}
        </div>
        {Boolean(q.error) && (
          <p class="form-error" role="alert">
            {t('quoteFailed')} {message(q.error)}{' '}
            <button type="button" class="link-button" onClick={q.retry}>
              {tc('retry')}
            </button>
          </p>
        )}

        <label class="paid-field">
          {t('amountPaid')}
          <input
            ref={props.paidRef}
            type="text"
            inputMode="decimal"
            autocomplete="off"
            enterKeyHint="done"
            data-scan="paid"
            value={state.paid}
            placeholder={quote ? f.money(quote.total) : ''}
            disabled={locked}
            aria-invalid={props.paidValid ? undefined : 'true'}
            aria-describedby="paid-help"
            onInput={(e) => update((s) => setPaid(s, e.currentTarget.value))}
          />
          <small id="paid-help" class={props.paidValid ? 'muted' : 'form-error'}>
            {props.paidValid ? t('amountPaidHint') : t('paidInvalid')}
          </small>
        </label>
        <div class="quick-cash" role="group" aria-label={t('quickCash')}>
          <button
            type="button"
            class="secondary outline"
            disabled={locked || !quote || !q.fresh}
            onClick={() => quote && update((s) => setPaid(s, plainAmount(quote.total)))}
          >
            {t('exact')}
          </button>
          {notes.map((n) => (
            <button
              key={n}
              type="button"
              class="secondary outline"
              disabled={locked}
              aria-label={f.money(n)}
              onClick={() => update((s) => setPaid(s, n))}
            >
              {f.number(n)}
            </button>
          ))}
        </div>

        {paidEntered && q.fresh && quote && (
          <div class={`pay-change${due ? ' due' : ''}`} aria-live="polite">
            <span>{due ? t('amountDue') : t('change')}</span>
            <span class="money">{f.money(due ?? quote.change ?? '0')}</span>
          </div>
        )}

        {props.phase === 'unconfirmed' && (
          <p class="pay-alert" role="alert">
            {t('notConfirmed')}
          </p>
        )}
        {props.phase === 'retrying' && (
          <p class="muted" role="status">
            {t('retrying')}
          </p>
        )}
        {props.refusal && (
          <p class="pay-alert" role="alert">
            {props.refusal.shortages.length > 0 ? t('stockRefused') : message(props.refusal.error)}
          </p>
        )}

        <button
          type="submit"
          class="pay-button"
          disabled={state.lines.length === 0 || busy || Boolean(due)}
          aria-busy={busy ? 'true' : undefined}
          aria-keyshortcuts="F9 Control+Enter"
          title={`${t('pay')} (F9, Ctrl+Enter)`}
        >
          {props.phase === 'unconfirmed' ? (
            t('retryPayment')
          ) : busy ? (
            t('paying')
          ) : (
            <>
              <span>{t('pay')}</span>
              {quote && q.fresh && <span class="money">{f.money(quote.total)}</span>}
              <kbd aria-hidden="true">F9</kbd>
            </>
          )}
        </button>
      </form>
    </section>
  );
}
