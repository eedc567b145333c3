import './pos.css';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, call, isApiError } from '../../api/client';
import { useFormat } from '../../app/store';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { useErrorMessage } from '../../components/ErrorState';
import { PageHeader } from '../../components/PageHeader';
import { Receipt } from '../../components/Receipt';
import { useI18n, useT } from '../../i18n';
import { nav } from '../../i18n/messages/nav';
import { pos } from '../../i18n/messages/pos';
import {
  addProduct,
  beginCheckout,
  checkoutFailure,
  clearCart,
  isLocked,
  newIdempotencyKey,
  normalizePaid,
  setPaid,
  settle,
  shortagesOf,
  toRequest,
  type Sale,
  type Shortage,
} from './cart';
import { CartPanel, type Phase } from './CartPanel';
import { ProductGrid, type Product } from './ProductGrid';
import { stripScanned } from './scanner';
import { receiptStore, usePosState, useQuote, useScanner } from './usePos';

type Notice = { kind: 'info' | 'success' | 'error'; text: string } | null;

const CHECKOUT_TIMEOUT_MS = 20_000;
const AUTO_RETRY_DELAY_MS = 1_200;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The till: product grid, scanner, cart priced by the server, checkout, receipt. */
export default function PosScreen() {
  const t = useT(pos);
  const tn = useT(nav);
  const { locale } = useI18n();
  const message = useErrorMessage();
  const f = useFormat();
  const { state, ref, update } = usePosState();
  const [receipt, setReceipt] = useState<Sale | null>(() => receiptStore.get());
  const [phase, setPhase] = useState<Phase>(() => (ref.current.pending ? 'unconfirmed' : 'idle'));
  const [refusal, setRefusal] = useState<{ error: unknown; shortages: Shortage[] } | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const [flash, setFlash] = useState<{ sku: string; n: number } | null>(null);
  const [search, setSearch] = useState('');
  const [confirmClear, setConfirmClear] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);
  const paidRef = useRef<HTMLInputElement>(null);

  const paid = normalizePaid(state.paid, locale);
  const quote = useQuote(state.lines, paid);

  // A notice fades after a few seconds (errors stay longer).
  useEffect(() => {
    if (!notice || notice.kind === 'info') return;
    const timer = setTimeout(() => setNotice(null), notice.kind === 'error' ? 8000 : 3000);
    return () => clearTimeout(timer);
  }, [notice]);

  const add = useCallback(
    (p: Pick<Product, 'sku' | 'name' | 'price'> & { variation?: string | null }) => {
      update((s) => addProduct(s, p));
      setFlash((f) => ({ sku: p.sku, n: (f?.n ?? 0) + 1 }));
      setRefusal(null);
    },
    [update],
  );

  const onScan = async (code: string, field: HTMLInputElement | null) => {
    if (field?.dataset['scan'] === 'search') setSearch(stripScanned(field.value, code));
    if (field?.dataset['scan'] === 'paid') update((s) => setPaid(s, stripScanned(field.value, code)));
    if (isLocked(ref.current)) {
      setNotice({ kind: 'error', text: t('scanLocked') });
      return;
    }
    setNotice({ kind: 'info', text: t('scanLooking', { code }) });
    try {
      const p = await call(api.GET('/api/products/lookup', { params: { query: { code } } }));
      if (!p.is_active) setNotice({ kind: 'error', text: t('scanInactive', { name: p.name }) });
      else if (p.stock <= 0) setNotice({ kind: 'error', text: t('scanOutOfStock', { name: p.name }) });
      else {
        add(p);
        setNotice({ kind: 'success', text: t('scanAdded', { name: p.name }) });
      }
    } catch (e) {
      setNotice({
        kind: 'error',
        text: isApiError(e) && e.code === 'not_found' ? t('scanNotFound', { code }) : message(e),
      });
    }
  };
  useScanner((code, field) => void onScan(code, field), receipt === null);

  /** Sends the kept checkout (same key every time) until the server answers. */
  const attempt = async (auto: boolean): Promise<void> => {
    const pending = ref.current.pending;
    if (!pending) return;
    setPhase(auto ? 'sending' : 'retrying');
    setRefusal(null);
    try {
      const sale = await call(
        api.POST('/api/transactions', {
          body: pending.request,
          headers: { 'Idempotency-Key': pending.key },
          signal: AbortSignal.timeout(CHECKOUT_TIMEOUT_MS),
        }),
      );
      receiptStore.set(sale);
      update((s) => settle(s, 'confirmed'));
      setReceipt(sale);
      setPhase('idle');
      setNotice(null);
      setSearch('');
    } catch (e) {
      if (checkoutFailure(e) === 'unknown') {
        if (auto) {
          setPhase('retrying');
          await sleep(AUTO_RETRY_DELAY_MS);
          if (ref.current.pending?.key === pending.key) return attempt(false);
        }
        setPhase('unconfirmed');
        return;
      }
      update((s) => settle(s, 'refused'));
      setPhase('idle');
      setRefusal({ error: e, shortages: isApiError(e) && e.code === 'insufficient_stock' ? shortagesOf(e.details) : [] });
    }
  };

  const pay = () => {
    const s = ref.current;
    if (s.lines.length === 0 || phase === 'sending' || phase === 'retrying') return;
    if (s.pending) {
      void attempt(false);
      return;
    }
    const amount = normalizePaid(s.paid, locale);
    if (amount === null) {
      paidRef.current?.focus();
      return;
    }
    update((x) => beginCheckout(x, toRequest(x.lines, amount || null), () => newIdempotencyKey()));
    void attempt(true);
  };

  const newSale = () => {
    receiptStore.clear();
    setReceipt(null);
    setPhase(ref.current.pending ? 'unconfirmed' : 'idle');
    setRefusal(null);
    setNotice(null);
    (document.activeElement as HTMLElement | null)?.blur?.();
  };

  // Keyboard shortcuts: F2 or "/" search, F9 or Ctrl+Enter pay, F4 / Esc new sale.
  const keys = useRef({ pay, newSale, receipt, hasLines: state.lines.length > 0 });
  keys.current = { pay, newSale, receipt, hasLines: state.lines.length > 0 };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || document.querySelector('dialog[open]')) return;
      const k = keys.current;
      const typing =
        e.target instanceof HTMLElement && (e.target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName));
      if (k.receipt) {
        if (e.key === 'F4' || (e.key === 'Escape' && !typing)) {
          e.preventDefault();
          k.newSale();
        }
        return;
      }
      if (e.key === 'F2' || (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey)) {
        e.preventDefault();
        searchRef.current?.focus();
        searchRef.current?.select();
      } else if (e.key === 'F9' || (e.key === 'Enter' && (e.ctrlKey || e.metaKey))) {
        e.preventDefault();
        k.pay();
      } else if (e.key === 'F4') {
        e.preventDefault();
        if (k.hasLines && !isLocked(ref.current)) setConfirmClear(true);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [ref]);

  const legend = (
    <p class="pos-keys" aria-label={t('shortcuts')}>
      {receipt ? (
        <span>
          <kbd>F4</kbd>/<kbd>Esc</kbd> {t('keyNewSale')}
        </span>
      ) : (
        <>
          <span>
            <kbd>F2</kbd>/<kbd>/</kbd> {t('keySearch')}
          </span>
          <span>
            <kbd>F9</kbd> {t('keyPay')}
          </span>
          <span>
            <kbd>F4</kbd> {t('keyNewSale')}
          </span>
        </>
      )}
    </p>
  );

  return (
    <div class={receipt ? 'pos-screen with-receipt' : 'pos-screen'}>
      <PageHeader title={tn('pos')} actions={legend} />
      {receipt && (
        <p class="sale-done" role="status">
          <span>✓ {t('saleDone', { id: receipt.transaction_id })}</span>
          <span class="sale-change">
            {t('change')}: {f.money(receipt.change)}
          </span>
        </p>
      )}
      {receipt ? (
        <Receipt
          sale={receipt}
          actions={
            <button type="button" onClick={newSale} aria-keyshortcuts="F4 Escape" title={`${t('newSale')} (F4, Esc)`}>
              {t('newSale')}
            </button>
          }
        />
      ) : (
        <div class="pos">
          <div class="pos-left">
            <p class={`scan-notice ${notice?.kind ?? 'hint'}`} role="status" aria-live="polite">
              {notice?.text ?? t('scanHint')}
            </p>
            <ProductGrid
              search={search}
              onSearch={setSearch}
              searchRef={searchRef}
              onAdd={add}
              locked={isLocked(state)}
            />
          </div>
          <CartPanel
            state={state}
            update={update}
            quote={quote}
            paidValid={paid !== null}
            phase={phase}
            refusal={refusal}
            flash={flash}
            paidRef={paidRef}
            onPay={pay}
            onClear={() => setConfirmClear(true)}
          />
          {/* Phone: the cart is below the grid, so the total and Pay stay on screen here. */}
          <div class="pos-paybar" aria-hidden="true">
            <a href="#pos-cart-h" class="paybar-cart" tabIndex={-1}>
              {t('cart')} · {f.number(state.lines.length)}
            </a>
            <span class="money paybar-total">{quote.quote ? f.money(quote.quote.total) : ''}</span>
            <button type="button" tabIndex={-1} disabled={state.lines.length === 0 || phase === 'sending' || phase === 'retrying'} onClick={pay}>
              {phase === 'unconfirmed' ? t('retryPayment') : t('pay')}
            </button>
          </div>
        </div>
      )}
      <ConfirmDialog
        open={confirmClear}
        title={t('clearCartTitle')}
        confirmLabel={t('clearCart')}
        danger
        onCancel={() => setConfirmClear(false)}
        onConfirm={() => {
          update(clearCart);
          setConfirmClear(false);
          setRefusal(null);
        }}
      >
        <p>{t('clearCartBody')}</p>
      </ConfirmDialog>
    </div>
  );
}
