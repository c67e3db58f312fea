import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { http } from './support/http';
import { ROOT } from './support/processes';
import { ADMIN_KEY } from './support/stack';

/**
 * The typed client of the README: `npm run client:types` generates the API's types from the test
 * stack's /docs-json (openapi-typescript; the test fails, never skips, when it is not installed),
 * test/typed-client/ compiles against them with the TypeScript compiler (including calls that must
 * not compile), and the compiled client creates an advertiser and a campaign and lists them.
 */
const GENERATED = join(ROOT, 'test', '.generated', 'api-types.ts');
const CLIENT_DIR = join(ROOT, 'test', 'typed-client');

function compile(outDir: string): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    skipLibCheck: true,
    rootDir: join(ROOT, 'test'),
    outDir,
    noEmitOnError: true,
  };
  const program = ts.createProgram([join(CLIENT_DIR, 'demo.ts'), join(CLIENT_DIR, 'misuse.ts')], options);
  const emitted = program.emit();
  return [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName.replace(ROOT, '.')}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} ` : '';
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('typed client (issue 20)', () => {
  let outDir: string;
  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'typed-client-'));
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('generates the types from /docs-json, compiles a client against them and runs it against the API', async () => {
    const generate = spawnSync(process.execPath, [join(ROOT, 'scripts', 'client-types.js'), '--url', process.env.E2E_BASE_URL!, '--out', GENERATED], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    if (generate.status !== 0) throw new Error(`npm run client:types failed (${generate.status}):\n${generate.stderr}${generate.stdout}`);
    expect(generate.stdout).toContain('API types written to');

    // The misuse file's @ts-expect-error lines are errors too if the types let those calls through.
    expect(compile(outDir)).toEqual([]);

    const name = `Typed ${Math.random().toString(36).slice(2, 8)}`;
    const run = spawnSync(process.execPath, [join(outDir, 'typed-client', 'demo.js')], {
      encoding: 'utf8',
      timeout: 30000,
      env: { ...process.env, API_URL: process.env.E2E_BASE_URL, API_KEY: ADMIN_KEY, DEMO_NAME: name },
    });
    if (run.status !== 0) throw new Error(`the typed client failed (${run.status}):\n${run.stderr}`);
    const seen = JSON.parse(run.stdout);
    expect(seen).toMatchObject({ currency: 'EUR', budget: 5_000_000, status: 'draft', listedCampaigns: [seen.campaignId] });
    expect(seen.listedAdvertisers).toContain(seen.advertiserId);

    const advertiser = await http('GET', `/v1/advertisers/${seen.advertiserId}`);
    expect(advertiser.body).toMatchObject({ name, currency: 'EUR', timezone: 'Europe/Berlin' });
  });
});
