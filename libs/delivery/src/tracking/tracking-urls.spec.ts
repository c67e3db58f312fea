import { TrackingUrls } from './tracking-urls';

describe('TrackingUrls', () => {
  it('writes each event URL as <base>/t/<event>?d=<token>', () => {
    expect(new TrackingUrls('https://ads.example.com').of('abc.def')).toEqual({
      impression: 'https://ads.example.com/t/impression?d=abc.def',
      start: 'https://ads.example.com/t/start?d=abc.def',
      firstQuartile: 'https://ads.example.com/t/firstQuartile?d=abc.def',
      midpoint: 'https://ads.example.com/t/midpoint?d=abc.def',
      thirdQuartile: 'https://ads.example.com/t/thirdQuartile?d=abc.def',
      complete: 'https://ads.example.com/t/complete?d=abc.def',
      click: 'https://ads.example.com/t/click?d=abc.def',
    });
  });

  it.each(['https://ads.example.com"', 'https://ads\\example.com', 'https://ads.example.com\u0001', 'https://ads.\ud800example.com'])('refuses a base URL JSON would escape (%j): the answer writes the URLs unescaped', (base) => {
    expect(() => new TrackingUrls(base)).toThrow(/PUBLIC_BASE_URL must not contain quotes, backslashes or control characters/);
  });
});
