import { billableEvent, eventCostMilliMicros, eventPriceMilliMicros, milliToMicros } from './pricing';

describe('pricing', () => {
  it('bills CPM on the impression, CPC on the click and CPCL on the completed listen, nothing else', () => {
    const events = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click'] as const;
    const billed = (model: 'CPM' | 'CPC' | 'CPCL') => events.filter((e) => eventCostMilliMicros(model, 7_000, e) > 0);
    expect(billed('CPM')).toEqual(['impression']);
    expect(billed('CPC')).toEqual(['click']);
    expect(billed('CPCL')).toEqual(['complete']);
    expect([billableEvent('CPM'), billableEvent('CPC'), billableEvent('CPCL')]).toEqual(['impression', 'click', 'complete']);
  });

  it('prices a CPM impression at rate/1000 micros and a click or completed listen at the rate, in milli-micros', () => {
    // 2,345,678 µ per thousand impressions: 2,345.678 µ an impression, exactly 2,345,678 milli-micros.
    expect(eventPriceMilliMicros('CPM', 2_345_678)).toBe(2_345_678);
    expect(eventCostMilliMicros('CPM', 2_345_678, 'impression')).toBe(2_345_678);
    expect(eventPriceMilliMicros('CPC', 150_000)).toBe(150_000_000);
    expect(eventCostMilliMicros('CPCL', 150_000, 'complete')).toBe(150_000_000);
    expect(eventCostMilliMicros('CPCL', 150_000, 'click')).toBe(0);
  });

  it('rounds milli-micros down to whole micros, never up', () => {
    expect(milliToMicros(2_345_678)).toBe(2_345);
    expect(milliToMicros(2_345_999)).toBe(2_345);
    expect(milliToMicros(3_000)).toBe(3);
    expect(milliToMicros(999)).toBe(0);
  });
});
