/** Who is calling: the bootstrap admin, or a key scoped to one advertiser. */
export type Principal =
  | { kind: 'admin'; keyId: 'admin' }
  | { kind: 'advertiser'; keyId: string; advertiserId: string };

export type Role = Principal['kind'];

/** The id written into audit columns (created_by, updated_by). */
export function actorOf(principal: Principal): string {
  return principal.kind === 'admin' ? 'admin' : `key:${principal.keyId}`;
}

/** The advertiser a principal is confined to, or undefined for admin (sees all). */
export function scopeOf(principal: Principal): string | undefined {
  return principal.kind === 'advertiser' ? principal.advertiserId : undefined;
}
