// Small typed wrapper over localStorage for state that must survive a reload or a
// sign-in (e.g. the POS cart). Values are JSON; a corrupt or missing value reads as
// the fallback. Other tabs' writes can be observed with `subscribe`.

export interface Persisted<T> {
  readonly key: string;
  get(): T;
  set(value: T): void;
  clear(): void;
  /** Called when another tab changes (or clears) the value. Returns an unsubscribe. */
  subscribe(listener: (value: T) => void): () => void;
}

const PREFIX = 'siprems.';

export function persisted<T>(key: string, fallback: T): Persisted<T> {
  const fullKey = PREFIX + key;
  const read = (raw: string | null): T => {
    if (raw === null) return fallback;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return fallback;
    }
  };
  return {
    key: fullKey,
    get() {
      try {
        return read(localStorage.getItem(fullKey));
      } catch {
        return fallback;
      }
    },
    set(value) {
      try {
        localStorage.setItem(fullKey, JSON.stringify(value));
      } catch {
        /* storage full or disabled: keep working in memory */
      }
    },
    clear() {
      try {
        localStorage.removeItem(fullKey);
      } catch {
        /* ignore */
      }
    },
    subscribe(listener) {
      const onStorage = (e: StorageEvent) => {
        if (e.key === fullKey || e.key === null) listener(read(e.newValue));
      };
      window.addEventListener('storage', onStorage);
      return () => window.removeEventListener('storage', onStorage);
    },
  };
}
