/** A MySQL integer or integral DECIMAL (as mysql2 returns sums), or null, as a bigint (null and undefined: 0). */
export function sqlBigInt(value: unknown): bigint {
  return value === null || value === undefined ? 0n : BigInt(String(value).split('.')[0]);
}
