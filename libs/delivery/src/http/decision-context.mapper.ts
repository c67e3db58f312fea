import type { CreativeFormat } from '@app/campaigns';
import type { DecisionRequest, VastQuery } from './decision.schemas';
import type { DecisionContext } from '../selection/decision-context';

const LINEAR: CreativeFormat[] = ['audio', 'video'];

function keywordsOf(list: readonly string[] | undefined): string[] {
  return list?.length ? [...new Set(list.map((k) => k.trim().toLowerCase()).filter(Boolean))] : [];
}

const lower = (v: string | undefined) => (v === undefined || v === '' ? undefined : v.trim().toLowerCase());

export function contextFromBody(body: DecisionRequest): DecisionContext {
  return {
    placement: body.placement,
    slots: body.slots ?? 1,
    userId: body.user.id,
    age: body.user.age,
    gender: lower(body.user.gender),
    platform: body.device.platform,
    userAgent: body.device.userAgent,
    ip: body.device.ip,
    country: body.geo.country.toUpperCase(),
    region: lower(body.geo.region),
    genre: lower(body.context?.genre),
    keywords: keywordsOf(body.context?.keywords),
    formats: body.format ? [body.format] : undefined,
  };
}

/** VAST holds linear ads only, so without `format` it asks for audio or video. `request.ip` is the listener's, as the route resolved it. */
export function contextFromVastQuery(query: VastQuery, request: { userAgent?: string; ip: string }): DecisionContext {
  return {
    placement: query.placement,
    slots: query.slots ?? 1,
    userId: query.userId,
    age: query.age,
    gender: lower(query.gender),
    platform: query.platform,
    userAgent: query.userAgent ?? request.userAgent,
    ip: request.ip,
    country: query.country.toUpperCase(),
    region: lower(query.region),
    genre: lower(query.genre),
    keywords: keywordsOf(query.keywords),
    formats: query.format ? [query.format] : LINEAR,
  };
}
