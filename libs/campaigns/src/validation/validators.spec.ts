import { validateXML } from 'xmllint-wasm';
import { isHttpUrl, isXsdAnyUri } from './validators';

const ANY_URI_SCHEMA = '<?xml version="1.0"?><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="u" type="xs:anyURI"/></xs:schema>';

/** What libxml2 (the engine of VAST validators and of the e2e suite's XSD check) says of a value as xs:anyURI. */
async function libxml2AnyUri(value: string): Promise<boolean> {
  const text = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const result = await validateXML({ xml: [{ fileName: 'u.xml', contents: `<?xml version="1.0" encoding="UTF-8"?><u>${text}</u>` }], schema: [{ fileName: 'u.xsd', contents: ANY_URI_SCHEMA }] });
  return result.valid;
}

describe('isXsdAnyUri', () => {
  const refused = ['https://v.example.com/?y=]', 'https://v.example.com/%zz', 'https://v.example.com/#a#b', 'https://v.example.com/?y=]]%3E', 'https://a.example/[x]', 'https://a.example/?a=[1]', 'https://a.example:/x', 'https://a.example/%', 'https://a.example/%4'];
  const accepted = [
    'http://example.com/x?y=1',
    'https://v.example.com/ü',
    'https://bücher.example/x',
    'https://v.example.com/{}',
    'https://v.example.com/a|b^c`d\\e',
    'https://[::1]:8080/a',
    'https://a.example/p%2Fq?x=%41#frag/?',
    'https://user:pw@a.example/',
    "https://a.example/it's",
    'https://a.example/?q=a%20b&c=d;e',
    'https://a.example/#',
    'https://a.example?x',
  ];

  it.each(refused)('refuses %s, as libxml2 does', async (url) => {
    expect(await libxml2AnyUri(url)).toBe(false);
    expect(isXsdAnyUri(url)).toBe(false);
    expect(isHttpUrl(url)).toBe(false);
  });

  it.each(accepted)('accepts %s, as libxml2 does', async (url) => {
    expect(await libxml2AnyUri(url)).toBe(true);
    expect(isXsdAnyUri(url)).toBe(true);
    expect(isHttpUrl(url)).toBe(true);
  });

  it('answers a long hostile value at once (no backtracking blow-up)', () => {
    const started = process.hrtime.bigint();
    expect(isXsdAnyUri(`https://${'a:'.repeat(1000)}`)).toBe(false);
    expect(isXsdAnyUri(`https://a.example/${'%4'.repeat(1000)}`)).toBe(false);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
  });
});
