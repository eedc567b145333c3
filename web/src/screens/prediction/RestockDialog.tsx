import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useFormat } from '../../app/store';
import { useErrorMessage } from '../../components/ErrorState';
import { useT } from '../../i18n';
import { common } from '../../i18n/messages/common';
import { prediction } from '../../i18n/messages/prediction';
import { productLabel } from '../../lib/productLabel';

type Recommendation = components['schemas']['Recommendation'];
type ProductView = components['schemas']['ProductView'];

/**
 * Restock one product: quantity prefilled with the API's gap (editable) and a note.
 * One Idempotency-Key per opening of the dialog, reused on every retry, so a double
 * tap or a retried request after a dropped response restocks once.
 */
export function RestockDialog(props: { rec: Recommendation | null; onClose: () => void; onDone: (p: ProductView) => void }) {
  const t = useT(prediction);
  const tc = useT(common);
  const f = useFormat();
  const message = useErrorMessage();
  const ref = useRef<HTMLDialogElement>(null);
  const key = useRef<string>('');
  const [qty, setQty] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const rec = props.rec;

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (rec) {
      key.current = crypto.randomUUID();
      setQty(rec.gap > 0 ? String(rec.gap) : '');
      setNote(t('noteDefault'));
      setError(null);
      setBusy(false);
      if (!d.open) d.showModal();
    } else if (d.open) {
      d.close();
    }
    // a new key only when another recommendation opens the dialog
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rec]);

  const quantity = Number(qty);
  const valid = Number.isInteger(quantity) && quantity >= 1 && quantity <= 1_000_000_000;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!rec || !valid || busy) return;
    setBusy(true);
    setError(null);
    try {
      const product = await call(
        api.POST('/api/products/{sku}/stock', {
          params: { path: { sku: rec.product_sku }, header: { 'Idempotency-Key': key.current } },
          body: { change: quantity, reason: 'restock', note: note.trim() || null },
        }),
      );
      props.onDone(product);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <dialog ref={ref} aria-labelledby="restock-h" onCancel={(e) => (e.preventDefault(), !busy && props.onClose())}>
      {rec && (
        <article>
          <header class="dialog-header">
            <h2 id="restock-h">{t('restockTitle', { name: productLabel(rec.product, rec.product_variation) })}</h2>
          </header>
          <form class="restock-form" onSubmit={(e) => void submit(e)}>
            <p class="muted">
              {rec.product_sku} · {t('current')}: {f.number(rec.current)} · {t('optimal')}: {f.number(rec.optimal)}
            </p>
            <label>
              {t('quantity')}
              <input
                type="number"
                inputMode="numeric"
                min={1}
                step={1}
                required
                value={qty}
                onInput={(e) => setQty(e.currentTarget.value)}
                aria-invalid={qty !== '' && !valid ? 'true' : undefined}
                aria-describedby="restock-hint"
              />
              <small id="restock-hint">{t('quantityHint', { n: f.number(rec.gap > 0 ? rec.gap : 0) })}</small>
            </label>
            <label>
              {t('note')}
              <input type="text" maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
            </label>
            {error !== null && (
              <p class="form-error" role="alert">
                {message(error)}
              </p>
            )}
            <footer>
              <button type="button" class="secondary" onClick={props.onClose} disabled={busy}>
                {tc('cancel')}
              </button>
              <button type="submit" disabled={!valid || busy} aria-busy={busy ? 'true' : undefined}>
                {t('restockSubmit')}
              </button>
            </footer>
          </form>
        </article>
      )}
    </dialog>
  );
}
