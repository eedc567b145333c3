import { describe, expect, it } from 'vitest';
import { translate } from '../../i18n/core';
import { prediction } from '../../i18n/messages/prediction';
import { accuracyWords, eventNames, formatUnits, placeLabels, toSeries } from './series';

const data = [
  { date: '2026-03-03', actual: null, predicted: 12.5, lower: 8, upper: 17, event: 'Promo' },
  { date: '2026-03-01', actual: 10, predicted: null, lower: null, upper: null },
  { date: '2026-03-02', actual: 0, predicted: null, lower: null, upper: null, event: null },
  { date: '2026-03-04', actual: null, predicted: 13, lower: 9, upper: 18, event: 'Promo' },
  { date: '2026-03-06', actual: null, predicted: 11, lower: 7, upper: 15, event: 'Promo' },
  { date: '2026-03-05', actual: null, predicted: 12, lower: 8, upper: 16, event: 'Payday ' },
];

describe('toSeries', () => {
  const s = toSeries(data);

  it('orders days and splits history (zero actuals kept) from forecast', () => {
    expect(s.points.map((p) => p.day)).toEqual(['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06']);
    expect(s.history.map((p) => p.actual)).toEqual([10, 0]);
    expect(s.forecast.map((p) => [p.lower, p.predicted, p.upper])).toEqual([
      [8, 12.5, 17],
      [9, 13, 18],
      [8, 12, 16],
      [7, 11, 15],
    ]);
    expect(s.forecastStart?.toISOString()).toBe('2026-03-03T00:00:00.000Z');
  });

  it('makes one marker per run of consecutive days of an event; labels each name once', () => {
    expect(s.events.map((e) => [e.day, e.lastDay, e.name, e.labelled])).toEqual([
      ['2026-03-03', '2026-03-04', 'Promo', true],
      ['2026-03-05', '2026-03-05', 'Payday', true],
      ['2026-03-06', '2026-03-06', 'Promo', false],
    ]);
  });

  it('keeps a multi-day event one marker while other events overlap it (names joined by ", ")', () => {
    const day = (d: number, event: string | null) => ({ date: `2026-12-${String(d).padStart(2, '0')}`, predicted: 5, event });
    const holiday = 'Libur Sekolah Akhir Tahun 2026';
    const events = toSeries([
      day(19, holiday),
      day(20, holiday),
      day(21, `${holiday}, Promo`),
      day(22, `${holiday}, Promo, Natal`),
      day(23, holiday),
      day(24, null),
      day(25, 'Natal'),
    ]).events;
    expect(events.map((e) => [e.day, e.lastDay, e.name, e.labelled])).toEqual([
      ['2026-12-19', '2026-12-23', holiday, true],
      ['2026-12-21', '2026-12-22', 'Promo', true],
      ['2026-12-22', '2026-12-22', 'Natal', true],
      ['2026-12-25', '2026-12-25', 'Natal', false],
    ]);
    // One label per distinct event: the holiday is labelled once, not once per overlap.
    expect(events.filter((e) => e.labelled && e.name === holiday)).toHaveLength(1);
  });

  it('splits a day with several events into their names, without duplicates', () => {
    expect(eventNames('A, B , A')).toEqual(['A', 'B']);
    expect(eventNames(null)).toEqual([]);
  });

  it('has no forecast start without forecast days', () => {
    expect(toSeries([{ date: '2026-03-01', actual: 1 }]).forecastStart).toBeNull();
  });
});

describe('accuracyWords', () => {
  const t = (key: 'accuracySentence' | 'accuracyBetter' | 'accuracyWorse', vars?: Record<string, string>) =>
    translate(prediction, 'en', key, vars);

  it('says how far off the forecast was, from WAPE and MAE', () => {
    const w = accuracyWords({ smape: 30, mase: 0.8, wape: 23.456, mae: 2.04, score: 76.5 }, 'en', t);
    expect(w.sentence).toBe('On held-out data the forecast was off by 23.5% of actual sales on average (about 2 units a day).');
    expect(w.beatsNaive).toBe(true);
    expect(w.comparison).toMatch(/^Better than/);
  });

  it('admits when it does not beat last week', () => {
    const w = accuracyWords({ smape: 60, mase: 1.2, wape: 50, mae: 5, score: 50 }, 'en', t);
    expect(w.beatsNaive).toBe(false);
    expect(w.comparison).toMatch(/^No better/);
  });

  it('uses Indonesian decimals in Indonesian', () => {
    expect(formatUnits(2.25, 'id')).toBe('2,3');
  });
});

describe('placeLabels', () => {
  it('stacks overlapping labels on new rows and flips those that would run off the right edge', () => {
    const places = placeLabels(
      [
        { x: 10, name: 'Promo' }, // 10..51.5
        { x: 30, name: 'Payday' }, // overlaps the first: next row
        { x: 200, name: 'Holiday' }, // free on row 0
        { x: 390, name: 'Year end sale' }, // would pass 400: left of its rule
      ],
      400,
    );
    expect(places).toEqual([
      { side: 'start', row: 0 },
      { side: 'start', row: 1 },
      { side: 'start', row: 0 },
      { side: 'end', row: 0 },
    ]);
  });

  it('never uses more than maxRows rows: a label that fits on none is left out, not piled on', () => {
    const many = Array.from({ length: 6 }, (_, i) => ({ x: i, name: 'Same place' }));
    const places = placeLabels(many, 800, { maxRows: 3 });
    expect(places.map((p) => p.row)).toEqual([0, 1, 2, null, null, null]);
  });
});
