import { describe, expect, it } from 'vitest';
import { ScanDetector, stripScanned } from './scanner';

/** Types `text` then Enter, `gap` ms apart, starting at `t0`; returns what Enter reported. */
function type(d: ScanDetector, text: string, gap: number, t0 = 1000, enterGap = gap): string | null {
  let t = t0;
  for (const ch of text) {
    expect(d.key(ch, t)).toBeNull();
    t += gap;
  }
  return d.key('Enter', t - gap + enterGap)?.code ?? null;
}

describe('ScanDetector', () => {
  it('reports a fast burst of digits ended by Enter', () => {
    expect(type(new ScanDetector(), '8991234567893', 5)).toBe('8991234567893');
  });

  it('ignores the same digits typed at human speed', () => {
    expect(type(new ScanDetector(), '8991234567893', 150)).toBeNull();
  });

  it('ignores an Enter that comes long after the burst', () => {
    expect(type(new ScanDetector(), '8991234567893', 5, 0, 500)).toBeNull();
  });

  it('needs the minimum length', () => {
    expect(type(new ScanDetector({ minLength: 8 }), '1234567', 5)).toBeNull();
    expect(type(new ScanDetector({ minLength: 8 }), '12345678', 5)).toBe('12345678');
  });

  it('drops slow digits typed before the burst', () => {
    const d = new ScanDetector();
    d.key('4', 0);
    d.key('2', 400); // a person, then a pause, then the scanner
    expect(type(d, '12345678', 4, 2000)).toBe('12345678');
  });

  it('a letter in the middle breaks the burst; modifiers do not', () => {
    const d = new ScanDetector();
    for (const [k, t] of [['1', 0], ['2', 5], ['a', 10], ['3', 15], ['4', 20], ['5', 25]] as const) d.key(k, t);
    expect(d.key('Enter', 30)).toBeNull(); // '345' is below the minimum of 4
    const e = new ScanDetector();
    for (const [k, t] of [['1', 0], ['Shift', 3], ['2', 5], ['3', 10], ['4', 15]] as const) e.key(k, t);
    expect(e.key('Enter', 20)?.code).toBe('1234');
  });

  it('starts afresh after each Enter', () => {
    const d = new ScanDetector();
    expect(type(d, '11112222', 5, 0)).toBe('11112222');
    expect(d.pending).toBe('');
    expect(d.key('Enter', 50)).toBeNull(); // a second Enter is not a second scan
  });

  it('reports the slowest pause, so a caller can be stricter in text fields', () => {
    const d = new ScanDetector({ maxGapMs: 1000 });
    for (const [k, t] of [['1', 0], ['2', 10], ['3', 300], ['4', 310]] as const) d.key(k, t);
    expect(d.key('Enter', 320)).toEqual({ code: '1234', slowestGapMs: 290 });
  });
});

describe('stripScanned', () => {
  it('removes the scanned digits the scanner typed into a field', () => {
    expect(stripScanned('roti8991234567893', '8991234567893')).toBe('roti');
    expect(stripScanned('roti', '8991234567893')).toBe('roti');
  });
});
