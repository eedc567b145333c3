// The till's hooks: the persisted cart state, the server's quote for it, the barcode
// scanner on the document.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { persisted } from '../../lib/persisted';
import { EMPTY, revive, toRequest, type CartLine, type PosState, type Sale } from './cart';
import { ScanDetector } from './scanner';

export type Quote = components['schemas']['Quote'];

const cartStore = persisted<unknown>('pos.cart', EMPTY);
export const receiptStore = persisted<Sale | null>('pos.receipt', null);

/**
 * The till state, persisted on every change (and followed across tabs). `update` is
 * synchronous and cheap: the new state is in `ref` and on screen on the next render.
 */
export function usePosState() {
  const [state, setState] = useState<PosState>(() => revive(cartStore.get()));
  const ref = useRef(state);
  const update = useCallback((change: (s: PosState) => PosState): PosState => {
    const next = change(ref.current);
    if (next !== ref.current) {
      ref.current = next;
      setState(next);
      cartStore.set(next);
    }
    return next;
  }, []);
  useEffect(
    () =>
      cartStore.subscribe((v) => {
        ref.current = revive(v);
        setState(ref.current);
      }),
    [],
  );
  return { state, ref, update };
}

/**
 * The server's price for the cart, re-asked ~150 ms after the last change (the previous
 * request is aborted). `quote` is the latest answer, `fresh` whether it is for the cart
 * as it is now; the screen shows an older one dimmed while `updating`.
 */
export function useQuote(lines: readonly CartLine[], paid: string | null) {
  const body = useMemo(() => (lines.length ? toRequest(lines, paid || null) : null), [lines, paid]);
  const key = body ? JSON.stringify(body) : '';
  const [answer, setAnswer] = useState<{ key: string; quote: Quote } | null>(null);
  const [failure, setFailure] = useState<{ key: string; error: unknown } | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!body) return;
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      call(api.POST('/api/transactions/quote', { body, signal: ctl.signal })).then(
        (quote) => {
          if (ctl.signal.aborted) return;
          setAnswer({ key, quote });
          setFailure(null);
        },
        (error: unknown) => {
          if (!ctl.signal.aborted) setFailure({ key, error });
        },
      );
    }, 150);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, version]);
  const retry = useCallback(() => setVersion((v) => v + 1), []);
  if (!body) return { quote: null, fresh: false, updating: false, error: null, retry };
  const fresh = answer?.key === key;
  const error = failure?.key === key ? failure.error : null;
  return { quote: answer?.quote ?? null, fresh, updating: !fresh && !error, error, retry };
}

/** Text fields where a scan may land; the value is the fewest digits that count as one. */
const SCAN_FIELDS: Record<string, number> = { search: 6, paid: 8 };
/**
 * In a text field only a scanner-fast burst is a scan (a person typing there is typing).
 * With no field focused, digits then Enter can only be a code: a slower burst (a busy
 * tablet, or a code keyed in by hand) still counts.
 */
const FIELD_MAX_GAP_MS = 100;
const PAGE_MAX_GAP_MS = 1000;
const TEXT_INPUT = /^(text|search|number|email|password|tel|url|date|datetime-local|month|time|week)$/;

function textField(el: EventTarget | null): HTMLElement | null {
  if (!(el instanceof HTMLElement)) return null;
  if (el.isContentEditable || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return el;
  if (el instanceof HTMLInputElement && TEXT_INPUT.test(el.type)) return el;
  return null;
}

/**
 * A keyboard-wedge scanner anywhere on the page: a fast burst of digits then Enter,
 * typed while no text field has the focus, or into a field marked `data-scan` (the
 * search and amount-paid fields: the digits it typed there are the caller's to strip).
 * The Enter of a scan is swallowed, so it never presses a focused button.
 */
export function useScanner(onScan: (code: string, field: HTMLInputElement | null) => void, enabled: boolean) {
  const handler = useRef(onScan);
  handler.current = onScan;
  useEffect(() => {
    if (!enabled) return;
    const detector = new ScanDetector({ maxGapMs: PAGE_MAX_GAP_MS });
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.altKey || e.metaKey || e.isComposing || document.querySelector('dialog[open]')) {
        detector.reset();
        return;
      }
      const field = textField(e.target);
      const scanKind = field instanceof HTMLInputElement ? field.dataset['scan'] : undefined;
      if (field && scanKind === undefined) {
        detector.reset(); // typing in some other field
        return;
      }
      const scan = detector.key(e.key, e.timeStamp || performance.now());
      if (!scan) return;
      const code = scan.code;
      if (scanKind !== undefined && (code.length < (SCAN_FIELDS[scanKind] ?? 8) || scan.slowestGapMs > FIELD_MAX_GAP_MS)) {
        return;
      }
      e.preventDefault();
      e.stopPropagation();
      handler.current(code, field instanceof HTMLInputElement ? field : null);
    };
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
  }, [enabled]);
}

/** `value`, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setV(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return v;
}
