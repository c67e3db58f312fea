import { locationHeader } from './location-header';

describe('locationHeader', () => {
  it('leaves a plain ASCII URL as it is', () => {
    expect(locationHeader('https://example.com/landing?utm_source=ads&x=1#top')).toBe('https://example.com/landing?utm_source=ads&x=1#top');
    expect(locationHeader('http://127.0.0.1:8080/a%20b')).toBe('http://127.0.0.1:8080/a%20b');
  });

  it('writes non-ASCII as UTF-8 percent-escapes and the host as punycode', () => {
    expect(locationHeader('https://bücher.example/straße?q=€ 5#été')).toBe('https://xn--bcher-kva.example/stra%C3%9Fe?q=%E2%82%AC%205#%C3%A9t%C3%A9');
  });

  it('escapes what RFC 3986 does not allow that the WHATWG parser leaves raw', () => {
    expect(locationHeader('https://example.com/a?q={x}|^`[]\\&p=50%&r=%zz#a#b')).toBe('https://example.com/a?q=%7Bx%7D%7C%5E%60%5B%5D%5C&p=50%25&r=%25zz#a%23b');
  });

  it('never yields a character a header cannot carry, and refuses what is not an absolute http(s) URL', () => {
    const location = locationHeader('https://example.com/\u0000\u0007\u007f\u0085\ufffe\ud800?x=\u001b');
    expect(location).toMatch(/^[\x21-\x7e]+$/);
    for (const url of ['javascript:alert(1)', '/relative', 'ftp://example.com/', 'https://exa\u0000mple.com/', 'not a url', '']) expect(locationHeader(url)).toBeUndefined();
  });
});
