import type { DecisionDto, DecisionResponseDto } from '../dto/decision-response.dto';
import type { DecisionOutcome, ServedAd } from '../services/decision.types';
import type { TrackingUrls } from '../tracking/tracking-urls';

/** One ad as the JSON answer shows it. */
export function toDecisionDto(ad: ServedAd): DecisionDto {
  return {
    decisionId: ad.decisionId,
    campaignId: ad.campaignId,
    lineItemId: ad.lineItemId,
    creativeId: ad.creativeId,
    format: ad.format,
    mediaUrl: ad.mediaUrl,
    mimeType: ad.mimeType,
    durationSeconds: ad.durationSeconds,
    clickUrl: ad.clickUrl,
    tracking: { ...ad.tracking },
  };
}

export function toDecisionResponse(outcome: DecisionOutcome, explain: boolean): DecisionResponseDto {
  const response: DecisionResponseDto = { requestId: outcome.requestId, decisions: outcome.ads.map(toDecisionDto) };
  if (explain) response.explanation = outcome.explanation;
  return response;
}

/**
 * The text of `JSON.stringify(toDecisionResponse(outcome, false))`, character for character, written
 * without walking the tracking URLs (see TrackingUrls.json): they are nine tenths of an answer's bytes.
 */
export function decisionResponseJson(outcome: DecisionOutcome, urls: TrackingUrls): string {
  let out = `{"requestId":${JSON.stringify(outcome.requestId)},"decisions":[`;
  for (let i = 0; i < outcome.ads.length; i++) {
    const ad = outcome.ads[i];
    out +=
      `${i === 0 ? '' : ','}{"decisionId":${JSON.stringify(ad.decisionId)},"campaignId":${JSON.stringify(ad.campaignId)},` +
      `"lineItemId":${JSON.stringify(ad.lineItemId)},"creativeId":${JSON.stringify(ad.creativeId)},"format":${JSON.stringify(ad.format)},` +
      `"mediaUrl":${JSON.stringify(ad.mediaUrl)},"mimeType":${JSON.stringify(ad.mimeType)},"durationSeconds":${JSON.stringify(ad.durationSeconds)},` +
      `${urls.json(ad.token)}}`;
  }
  return `${out}]}`;
}
