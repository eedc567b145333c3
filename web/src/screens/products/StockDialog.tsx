import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, isApiError } from '../../api/client';
import type { components } from '../../api/schema';
import { useFormat } from '../../app/store';
import { Dialog } from '../../components/Dialog';
import { FormError } from '../../components/FormError';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { common } from '../../i18n/messages/common';
import { products as m } from '../../i18n/messages/products';
import { newIdempotencyKey, parseWholeNumber } from './logic';

type Product = components['schemas']['ProductView'];
type Reason = 'restock' | 'adjustment';

/**
 * Restock or adjust one product. The Idempotency-Key is made when the dialog opens and
 * reused for every retry of the same change, so a double tap (or a retry after a lost
 * response) changes the stock once. Editing the change or reason makes a new key.
 */
export function StockDialog(props: { product: Product | null; onClose: () => void; onDone: (p: Product) => void }) {
  const t = useT(m);
  const tc = useT(common);
  const f = useFormat();
  const toast = useToast();
  const p = props.product;
  const [reason, setReason] = useState<Reason>('restock');
  const [change, setChange] = useState('');
  const [note, setNote] = useState('');
  const [invalid, setInvalid] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const key = useRef('');

  useEffect(() => {
    if (p) {
      setReason('restock');
      setChange('');
      setNote('');
      setInvalid(false);
      setError(null);
      key.current = newIdempotencyKey();
    }
  }, [p?.sku]);

  // Another request body under the same key would be refused (422): a new key per edit.
  const edit = (fn: () => void) => {
    fn();
    key.current = newIdempotencyKey();
  };

  async function submit(e: Event) {
    e.preventDefault();
    if (!p || busy) return;
    // Text to the integer the API takes; whether it is acceptable (non-zero, a restock
    // positive, in range) is the server's answer, shown by FormError.
    const n = parseWholeNumber(change);
    setInvalid(n === null);
    if (n === null) return;
    setBusy(true);
    setError(null);
    try {
      const updated = await call(
        api.POST('/api/products/{sku}/stock', {
          params: { path: { sku: p.sku }, header: { 'Idempotency-Key': key.current } },
          body: { change: n, reason, note: note.trim() || null },
        }),
      );
      toast.show(t('stockApplied', { name: updated.name, n: f.number(updated.stock) }), 'success');
      props.onDone(updated);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const belowZero = isApiError(error) && error.status === 409 && error.code === 'conflict';

  return (
    <Dialog
      open={p !== null}
      busy={busy}
      title={p ? t('stockTitle', { name: p.name }) : ''}
      onClose={props.onClose}
      footer={
        <>
          <button type="button" class="secondary" onClick={props.onClose} disabled={busy}>
            {tc('cancel')}
          </button>
          <button type="submit" form="stock-form" aria-busy={busy ? 'true' : undefined} disabled={busy}>
            {t('apply')}
          </button>
        </>
      }
    >
      {p && (
        <form id="stock-form" onSubmit={submit} noValidate>
          <p class="muted">{t('currentStock', { n: f.number(p.stock) })}</p>
          <fieldset>
            <legend>{t('reason')}</legend>
            {(['restock', 'adjustment'] as const).map((r) => (
              <label key={r}>
                <input type="radio" name="reason" value={r} checked={reason === r} onChange={() => edit(() => setReason(r))} />
                {r === 'restock' ? t('reasonRestock') : t('reasonAdjustment')}
              </label>
            ))}
          </fieldset>
          <label>
            {t('change')}
            <input
              name="change"
              inputMode={reason === 'restock' ? 'numeric' : 'text'}
              value={change}
              onInput={(e) => edit(() => setChange(e.currentTarget.value))}
              aria-invalid={invalid ? 'true' : undefined}
              aria-describedby="stock-change-help"
              autocomplete="off"
              required
            />
            <small id="stock-change-help" class={invalid ? 'field-error' : undefined}>
              {invalid
                ? t('wholeNumber')
                : reason === 'restock'
                  ? t('changeRestockHint')
                  : t('changeAdjustHint')}
            </small>
          </label>
          <label>
            {t('note')}
            <input name="note" value={note} placeholder={t('notePlaceholder')} onInput={(e) => edit(() => setNote(e.currentTarget.value))} />
          </label>
          {belowZero ? (
            <div class="form-alert" role="alert">
              <strong>{t('belowZero')}</strong>
            </div>
          ) : (
            <FormError error={error} />
          )}
        </form>
      )}
    </Dialog>
  );
}
