import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';

/** Validates a document against the IAB VAST 4.2 XSD (test/fixtures/vast_4.2.xsd, a copy of ../shared/standards/vast_4.2.xsd) with libxml2. */
export async function validateVast(xml: string): Promise<{ valid: boolean; errors: string[] }> {
  const schema = readFileSync(join(__dirname, '..', 'fixtures', 'vast_4.2.xsd'));
  const result = await validateXML({ xml: [{ fileName: 'response.xml', contents: xml }], schema: [{ fileName: 'vast_4.2.xsd', contents: schema }] });
  return { valid: result.valid, errors: result.errors.map((e) => e.message) };
}
