/**
 * What the ledger's rebuild reads of measurement's tables, and measurement's aggregation shares: which
 * events are billable and what one delivered.
 */

/** A valid event of the kind its pricing model bills (whether it is billed or written off is `written_off`). */
export const BILLABLE = "status = 'valid' AND ((pricing_model = 'CPM' AND event_type = 'impression') OR (pricing_model = 'CPC' AND event_type = 'click') OR (pricing_model = 'CPCL' AND event_type = 'complete'))";

/**
 * What one event delivered in milli-micros (a CPM impression costs rate/1000 micros = rate
 * milli-micros), billed or written off: the ledger counts it either way.
 */
export const EVENT_SPEND_MMICROS = `IF(${BILLABLE}, IF(pricing_model = 'CPM', rate_micros, rate_micros * 1000), 0)`;

/** Name of the aggregation's watermark row (aggregation_watermarks): measurement advances it, the rebuild reads it. */
export const ROLLUP_WATERMARK = 'rollups';
