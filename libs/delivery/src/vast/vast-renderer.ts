import { replaceControlCharacters } from '@app/platform';
import type { ServedAd } from '../services/decision.types';

export const VAST_NAMESPACE = 'http://www.iab.com/VAST';
const AD_SYSTEM = 'AdPlatform';
/** Registry named in UniversalAdId: our own creative ids (no AD-ID is collected). */
const AD_ID_REGISTRY = 'adplatform';

/** The empty document of a no-fill: valid VAST 4.2 with no Ad. */
export const EMPTY_VAST = `<?xml version="1.0" encoding="UTF-8"?>\n<VAST version="4.2" xmlns="${VAST_NAMESPACE}"/>\n`;

/**
 * Renders a decision as VAST 4.2 (one InLine Ad per slot, `sequence` when it is a pod). Audio
 * creatives are `adType="audio"` with 0x0 media files, as the spec asks. The element order follows
 * the XSD sequences exactly (Linear: TrackingEvents, Duration, MediaFiles, VideoClicks; VideoClicks:
 * ClickTracking before ClickThrough), since validators check order.
 */
export function renderVast(ads: readonly ServedAd[]): string {
  if (ads.length === 0) return EMPTY_VAST;
  const pod = ads.length > 1;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>', `<VAST version="4.2" xmlns="${VAST_NAMESPACE}">`];
  ads.forEach((ad, i) => {
    const sequence = pod ? ` sequence="${i + 1}"` : '';
    out.push(
      `<Ad id="${attr(ad.decisionId)}"${sequence} adType="${ad.format === 'audio' ? 'audio' : 'video'}">`,
      '<InLine>',
      `<AdSystem version="1.0">${AD_SYSTEM}</AdSystem>`,
      `<Impression id="${attr(ad.decisionId)}">${cdata(ad.tracking.impression)}</Impression>`,
      pricing(ad),
      `<AdServingId>${text(ad.decisionId)}</AdServingId>`,
      `<AdTitle>${text(ad.lineItemName)}</AdTitle>`,
      '<Creatives>',
      `<Creative id="${attr(ad.creativeId)}" adId="${attr(ad.creativeId)}">`,
      '<Linear>',
      '<TrackingEvents>',
      ...(['start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete'] as const).map((event) => `<Tracking event="${event}">${cdata(ad.tracking[event])}</Tracking>`),
      '</TrackingEvents>',
      `<Duration>${duration(ad.durationSeconds)}</Duration>`,
      '<MediaFiles>',
      `<MediaFile id="${attr(ad.creativeId)}" delivery="progressive" type="${attr(ad.mimeType)}" width="0" height="0">${cdata(ad.mediaUrl)}</MediaFile>`,
      '</MediaFiles>',
      '<VideoClicks>',
      `<ClickTracking id="${attr(ad.decisionId)}">${cdata(ad.tracking.click)}</ClickTracking>`,
      `<ClickThrough>${cdata(ad.clickThroughUrl)}</ClickThrough>`,
      '</VideoClicks>',
      '</Linear>',
      `<UniversalAdId idRegistry="${AD_ID_REGISTRY}">${text(ad.creativeId)}</UniversalAdId>`,
      '</Creative>',
      '</Creatives>',
      '</InLine>',
      '</Ad>',
    );
  });
  out.push('</VAST>');
  return `${out.filter(Boolean).join('\n')}\n`;
}

/** VAST Pricing knows CPM and CPC (per the XSD enumeration); CPCL has no VAST model and is left out. */
function pricing(ad: ServedAd): string {
  if (ad.pricingModel === 'CPCL') return '';
  const value = (ad.rateMicros / 1_000_000).toFixed(6).replace(/\.?0+$/, '');
  return `<Pricing model="${ad.pricingModel}" currency="${attr(ad.currency)}">${value}</Pricing>`;
}

/** xs:time: hh:mm:ss with milliseconds when the duration has them. */
export function duration(seconds: number): string {
  const totalMs = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(totalMs / 3_600_000);
  const m = Math.floor((totalMs % 3_600_000) / 60_000);
  const s = Math.floor((totalMs % 60_000) / 1000);
  const ms = totalMs % 1000;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.min(h, 23))}:${pad(m)}:${pad(s)}${ms ? `.${pad(ms, 3)}` : ''}`;
}

/*
 * Control characters: XML 1.0's Char production forbids C0 controls but tab and newlines, U+FFFE/U+FFFF
 * and lone surrogates, and discourages DEL and C1. The API refuses them all in text fields, but rows
 * written before it did may hold them, and one in a name would make the whole document, every ad of a
 * pod included, unreadable: they are never written.
 */

/** A URL inside CDATA: a control character is percent-encoded (UTF-8; a lone surrogate as U+FFFD), as a browser would send it. */
function cdata(value: string): string {
  const safe = replaceControlCharacters(value, (c) => (c >= '\uD800' && c <= '\uDFFF' ? '%EF%BF%BD' : encodeURIComponent(c)));
  return `<![CDATA[${safe.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

/** Text content: a character XML cannot carry becomes U+FFFD, the replacement character. */
function text(value: string): string {
  return replaceControlCharacters(value, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;');
}
