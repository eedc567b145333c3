// Barcode scanners in keyboard-wedge mode "type" the code, a key every few milliseconds,
// then press Enter. A person types far slower. This detector watches keydowns (with
// their time) and reports a code when an Enter ends a fast burst of digits.
// Pure: no DOM, the time is passed in, so it is unit-tested.

export interface ScanOptions {
  /** Longest pause between two keys of one burst (and before the Enter), in ms. */
  maxGapMs: number;
  /** Fewest digits a burst needs before its Enter counts as a scan. */
  minLength: number;
  /** Most digits a code may have (the lookup takes up to 64 characters). */
  maxLength: number;
}

export const SCAN_DEFAULTS: ScanOptions = { maxGapMs: 100, minLength: 4, maxLength: 64 };

/** Keys that do not interrupt a burst (some scanners send a Shift around characters). */
const NEUTRAL = new Set(['Shift', 'Control', 'Alt', 'Meta', 'CapsLock', 'NumLock', 'Unidentified']);

export interface Scan {
  code: string;
  /** The longest pause inside the burst (Enter included), in ms: a scanner's is tiny. */
  slowestGapMs: number;
}

export class ScanDetector {
  private buffer = '';
  private last = Number.NEGATIVE_INFINITY;
  private slowest = 0;
  private readonly options: ScanOptions;

  constructor(options: Partial<ScanOptions> = {}) {
    this.options = { ...SCAN_DEFAULTS, ...options };
  }

  /**
   * Feed one keydown. Returns the scan when `key` is an Enter that ends a burst of at
   * least `minLength` digits, each within `maxGapMs` of the previous key; null otherwise.
   */
  key(key: string, now: number): Scan | null {
    const gap = now - this.last;
    if (key === 'Enter') {
      const scan = { code: this.buffer, slowestGapMs: Math.max(this.slowest, gap) };
      this.reset();
      return scan.code.length >= this.options.minLength && gap <= this.options.maxGapMs ? scan : null;
    }
    if (key.length === 1 && key >= '0' && key <= '9') {
      // A slow key starts a new burst rather than extending the old one.
      if (gap > this.options.maxGapMs || this.buffer.length >= this.options.maxLength) {
        this.buffer = '';
        this.slowest = 0;
      } else if (this.buffer) {
        this.slowest = Math.max(this.slowest, gap);
      }
      this.buffer += key;
      this.last = now;
      return null;
    }
    if (NEUTRAL.has(key)) return null;
    this.reset();
    return null;
  }

  /** Digits of the burst in progress (a scan may be under way). */
  get pending(): string {
    return this.buffer;
  }

  reset(): void {
    this.buffer = '';
    this.slowest = 0;
    this.last = Number.NEGATIVE_INFINITY;
  }
}

/**
 * After a scan typed into a text field: the field's value without the scanned digits
 * at its end (the scanner typed them there before its Enter revealed it as a scan).
 */
export function stripScanned(value: string, code: string): string {
  return value.endsWith(code) ? value.slice(0, value.length - code.length) : value;
}
