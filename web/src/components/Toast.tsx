import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useMemo, useState } from 'preact/hooks';

export type ToastKind = 'success' | 'error' | 'info';
interface ToastItem {
  id: number;
  kind: ToastKind;
  message: string;
}
interface ToastApi {
  show(message: string, kind?: ToastKind): void;
}

const ToastContext = createContext<ToastApi>({ show: () => undefined });

/** `const toast = useToast(); toast.show(t('saved'), 'success')` */
export function useToast(): ToastApi {
  return useContext(ToastContext);
}

export function ToastProvider(props: { children: ComponentChildren }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const show = useCallback((message: string, kind: ToastKind = 'info') => {
    const id = Date.now() + Math.random();
    setItems((xs) => [...xs, { id, kind, message }]);
    setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 4000);
  }, []);
  const value = useMemo(() => ({ show }), [show]);
  return (
    <ToastContext.Provider value={value}>
      {props.children}
      <div class="toasts" role="status" aria-live="polite">
        {items.map((x) => (
          <div key={x.id} class={`toast toast-${x.kind}`}>
            {x.message}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
