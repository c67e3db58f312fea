export function iso(date: Date): string {
  return date.toISOString();
}

export function isoOrNull(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

/** The audit fields of a row as the API shows them (AuditedDto). */
export function auditOf(row: { version: number; createdAt: Date; updatedAt: Date; createdBy: string; updatedBy: string }) {
  return { version: row.version, createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt), createdBy: row.createdBy, updatedBy: row.updatedBy };
}

/** Audit fields of a row created now by `actor`. */
export function newAudit(actor: string, now: Date) {
  return { version: 1, createdAt: now, updatedAt: now, createdBy: actor, updatedBy: actor };
}
