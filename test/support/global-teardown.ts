import type { Stack } from './stack';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as { __E2E_STACK__?: Stack }).__E2E_STACK__;
  if (!stack) return;
  await stack.stop();
  if (!process.env.KEEP_TEST_DB) await stack.dropData();
}
