import { BadRequestException } from '@nestjs/common';
import Ajv from 'ajv';
import { isIP } from 'node:net';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';

/** The request parts Fastify validates. */
type RequestPart = 'body' | 'headers' | 'params' | 'querystring';

/**
 * A JSON Schema as player routes declare it: the subset OpenAPI 3.0 shares with JSON Schema (no
 * `const`, no type lists; `nullable: true` for null), so one object validates, serialises and documents.
 */
export type JsonSchema = Record<string, unknown>;

function schemaAjv(coerceTypes: boolean): Ajv {
  // Nothing is removed or defaulted: a request is checked as sent. Every problem is reported, not the
  // first; bodies are bounded (JSON_MAX_*) and strings by maxLength before a pattern sees them.
  const ajv = new Ajv({ allErrors: true, coerceTypes, useDefaults: false, removeAdditional: false, strict: true });
  ajv.addKeyword('example');
  // `format: 'ip'`: an address as Node reads one (IPv4 dotted quad, or IPv6 including IPv4-mapped).
  ajv.addFormat('ip', (value: string) => isIP(value) !== 0);
  return ajv;
}

/**
 * Fastify's validator compiler for player routes: a JSON body is checked as sent (`"2"` is not an
 * integer); URL parts are text, so numbers in them are read as numbers.
 */
export function schemaValidatorCompiler(): FastifySchemaCompiler<JsonSchema> {
  const body = schemaAjv(false);
  const url = schemaAjv(true);
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : url).compile(schema);
}

const PART_NAMES: Record<RequestPart, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'headers' };

/** `/context/keywords/1` → `context.keywords[1]`, the field paths the class-validator pipe's answers use. */
function fieldOf(instancePath: string, child?: unknown): string {
  let field = '';
  for (const segment of instancePath.split('/').slice(1)) {
    const name = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    field += /^\d+$/.test(name) ? `[${name}]` : field ? `.${name}` : name;
  }
  if (typeof child === 'string') field += field ? `.${child}` : child;
  return field;
}

const shown = (value: unknown) => (value === '' ? '""' : String(value));

/** Ajv's errors of one request part, by field, in the words of the platform's other 400s. */
export function schemaProblems(errors: readonly FastifySchemaValidationError[], part: RequestPart): Array<{ field: string; problems: string[] }> {
  const byField = new Map<string, string[]>();
  for (const error of errors) {
    let field: string;
    let problem: string;
    if (error.keyword === 'required') {
      field = fieldOf(error.instancePath, error.params.missingProperty);
      problem = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      field = fieldOf(error.instancePath, error.params.additionalProperty);
      problem = 'is not a known field';
    } else if (error.keyword === 'enum') {
      field = fieldOf(error.instancePath);
      problem = `must be one of ${(error.params.allowedValues as unknown[]).map(shown).join(', ')}`;
    } else if (error.keyword === 'format' && error.params.format === 'ip') {
      field = fieldOf(error.instancePath);
      problem = 'must be an IPv4 or IPv6 address';
    } else {
      field = fieldOf(error.instancePath);
      problem = (error.message ?? 'is invalid').replace('must NOT', 'must not');
    }
    field ||= PART_NAMES[part];
    const problems = byField.get(field) ?? [];
    if (!problems.includes(problem)) problems.push(problem);
    byField.set(field, problems);
  }
  return [...byField].map(([field, problems]) => ({ field, problems }));
}

/** Fastify's `schemaErrorFormatter`: the 400 of the uniform error body, `details` naming each field. */
export function schemaValidationError(errors: FastifySchemaValidationError[], part: RequestPart): BadRequestException {
  const details = schemaProblems(errors, part);
  return new BadRequestException({ message: details.map((d) => `${d.field}: ${d.problems.join(', ')}`).join('; ') || 'invalid input', details });
}
