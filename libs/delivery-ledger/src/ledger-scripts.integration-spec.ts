import { readdirSync } from 'node:fs';
import { testRedis } from '../../../test/support/test-redis';
import { LEDGER_SCRIPTS, LEDGER_SCRIPT_NAMES, ledgerLuaDir } from './ledger-scripts';

describe('ledger scripts', () => {
  it('loads every .lua file of lua/ (none forgotten, none missing)', () => {
    const files = readdirSync(ledgerLuaDir())
      .filter((f) => f.endsWith('.lua') && f !== 'prelude.lua')
      .map((f) => f.replace(/\.lua$/, ''))
      .sort();
    expect(files).toEqual([...LEDGER_SCRIPT_NAMES].sort());
  });

  it('compiles each script, prelude included, in Redis (SCRIPT LOAD checks the syntax)', async () => {
    const redis = await testRedis();
    try {
      for (const name of LEDGER_SCRIPT_NAMES) {
        await expect(redis.client.script('LOAD', LEDGER_SCRIPTS[name])).resolves.toMatch(/^[0-9a-f]{40}$/);
      }
      // A syntax error is reported, so the check above can fail.
      await expect(redis.client.script('LOAD', `${LEDGER_SCRIPTS.read}\nlocal = 1`)).rejects.toThrow(/Error compiling script/);
    } finally {
      await redis.cleanup();
    }
  });
});
