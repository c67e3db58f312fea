import { BadRequestException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { controlCharacterIn, describeCodePoint } from '../util/text';

/** How far and how wide a request body may go, checked on its raw text before anything walks it. */
export interface JsonBodyLimits {
  /** Deepest nesting of arrays and objects (the top-level value is depth 1). */
  maxDepth: number;
  /** Most elements in one array, or members in one object. */
  maxItems: number;
  /** Most values in the whole body (every array element and object member, at any depth). */
  maxValues: number;
}

/**
 * Why a JSON text exceeds `limits`, or undefined when it does not: one pass over the characters that
 * skips string contents (escapes included) and counts the commas of each open array or object. It does
 * not validate JSON (the parser that runs next does); it bounds what the parser, class-transformer and
 * class-validator would otherwise walk recursively: a megabyte of `[` overflows their stacks, and 349k
 * empty objects cost a second of CPU.
 */
export function jsonLimitProblem(text: string, limits: JsonBodyLimits): string | undefined {
  const { maxDepth, maxItems, maxValues } = limits;
  // items[d]: elements seen so far in the open container at depth d.
  const items = new Int32Array(maxDepth + 1);
  let depth = 0;
  let values = 1;
  let awaitingFirst = false;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (awaitingFirst) {
      awaitingFirst = false;
      if (c !== 0x5d /* ] */ && c !== 0x7d /* } */) {
        items[depth] = 1;
        if (++values > maxValues) return `JSON body has more than ${maxValues} values`;
      }
    }
    switch (c) {
      case 0x22 /* " */:
        // Skip the string: its contents are data, not structure.
        for (i++; i < length; i++) {
          const s = text.charCodeAt(i);
          if (s === 0x5c /* \ */) i++;
          else if (s === 0x22) break;
        }
        break;
      case 0x5b /* [ */:
      case 0x7b /* { */:
        if (++depth > maxDepth) return `JSON body is nested deeper than ${maxDepth} levels`;
        items[depth] = 0;
        awaitingFirst = true;
        break;
      case 0x5d /* ] */:
      case 0x7d /* } */:
        if (depth > 0) depth--;
        break;
      case 0x2c /* , */:
        if (depth > 0 && ++items[depth] > maxItems) return `JSON body has an array or object of more than ${maxItems} items`;
        if (++values > maxValues) return `JSON body has more than ${maxValues} values`;
        break;
    }
  }
  return undefined;
}

/**
 * Where a parsed body (or query) holds a control character: `field.path: ...`, or undefined. Text
 * fields are names, URLs, ids and keywords; none has a use for C0 or C1 controls, DEL, U+FFFE/U+FFFF
 * or a lone surrogate, and each of them breaks something downstream (XML in VAST, HTTP headers, logs).
 */
export function controlCharacterProblem(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') {
    const at = controlCharacterIn(value);
    return at < 0 ? undefined : `${path || 'body'}: must not contain control characters (${describeCodePoint(value, at)} at index ${at})`;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = controlCharacterProblem(value[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const field = path ? `${path}.${key}` : key;
    const at = controlCharacterIn(key);
    if (at >= 0) return `${path || 'body'}: a field name must not contain control characters (${describeCodePoint(key, at)})`;
    const problem = controlCharacterProblem((value as Record<string, unknown>)[key], field);
    if (problem) return problem;
  }
  return undefined;
}

/** Throws a 400 naming the field when a parsed body or query holds a control character. */
export function assertNoControlCharacters(value: unknown): void {
  const problem = controlCharacterProblem(value);
  if (problem) throw new BadRequestException(problem);
}

type JsonParser = ReturnType<FastifyInstance['getDefaultJsonParser']>;
type Done = (err: Error | null, body?: unknown) => void;

/**
 * The one JSON body parser of the API (Nest's routes and the player routes): limits first, on the raw
 * text; then Fastify's own parser (prototype-poisoning safe); then control characters, by field. An
 * empty or blank body parses as no body: clients send `Content-Type: application/json` with no body on
 * action endpoints such as POST /v1/campaigns/:id/activate. `notJson`, if given, replaces the parser's
 * syntax error message (text/plain bodies, where the client may not know it had to send JSON).
 */
export function parseGuardedJson(parse: JsonParser, limits: JsonBodyLimits, request: unknown, text: string, done: Done, notJson?: string): void {
  if (text.trim() === '') return done(null, undefined);
  const tooBig = jsonLimitProblem(text, limits);
  if (tooBig) return done(new BadRequestException(tooBig));
  parse(request as Parameters<JsonParser>[0], text, (err: Error | null, body?: unknown) => {
    if (err) return done(isJson(text) ? new BadRequestException(PROTOTYPE_KEYS_MESSAGE) : notJson ? new BadRequestException(notJson) : err);
    const problem = controlCharacterProblem(body);
    if (problem) return done(new BadRequestException(problem));
    done(null, body);
  });
}

/** Valid JSON that the parser still refused: it carries `__proto__` or `constructor.prototype` (prototype poisoning). */
export const PROTOTYPE_KEYS_MESSAGE = 'body must not contain "__proto__" or "constructor": {"prototype": ...} keys';

/** Whether `text` is JSON at all (only asked after the guarded parser refused it, to name the reason). */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** text/plain bodies are JSON too: navigator.sendBeacon posts strings as text/plain (a JSON type would need a CORS preflight). */
export const TEXT_JSON_MESSAGE = 'body must be JSON (sent as application/json or text/plain)';

/** The guarded parser for application/json and text/plain on a bare Fastify instance (the player routes). */
export function registerGuardedJsonParsers(fastify: FastifyInstance, limits: JsonBodyLimits): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => parseGuardedJson(parse, limits, request, body as string, done));
  fastify.addContentTypeParser('text/plain', { parseAs: 'string' }, (request, body, done) => parseGuardedJson(parse, limits, request, body as string, done, TEXT_JSON_MESSAGE));
}

/**
 * The guarded parsers on Nest's Fastify instance, registered through Nest so that its own stand aside:
 * JSON as above, and HTML form bodies (which Nest accepts too) held to the same item and control-character rules.
 */
export function useGuardedBodyParsers(app: NestFastifyApplication, bodyLimit: number, limits: JsonBodyLimits): void {
  const parse = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit }, (request, body, done) => parseGuardedJson(parse, limits, request, body.toString(), done));
  app.useBodyParser('text/plain', { bodyLimit }, (request, body, done) => parseGuardedJson(parse, limits, request, body.toString(), done, TEXT_JSON_MESSAGE));
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit }, (_request, body, done) => {
    const parsed = parseForm(body.toString(), limits.maxItems);
    const problem = typeof parsed === 'string' ? parsed : controlCharacterProblem(parsed);
    if (problem) return done(new BadRequestException(problem));
    done(null, parsed);
  });
}

/** A form body as Nest parses it (a repeated name gives an array), or why it is refused. */
export function parseForm(text: string, maxItems: number): Record<string, string | string[]> | string {
  const out: Record<string, string | string[]> = {};
  let count = 0;
  for (const [name, value] of new URLSearchParams(text)) {
    if (++count > maxItems) return `form body has more than ${maxItems} fields`;
    // As a JSON body's: "__proto__" copied onto another object would replace its prototype.
    if (name === '__proto__') return 'Object contains forbidden prototype property';
    const prior = Object.hasOwn(out, name) ? out[name] : undefined;
    if (prior === undefined) out[name] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else out[name] = [prior, value];
  }
  return out;
}
