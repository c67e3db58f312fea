import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

/** Flattens nested class-validator errors into `field.path: problem` pairs. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldProblems {
  const out: FieldProblems = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) {
      out.push({ field, problems: Object.values(error.constraints).map((p) => (p.startsWith(error.property) ? p.slice(error.property.length).trim() : p)) });
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, field));
  }
  return out;
}

export type FieldProblems = Array<{ field: string; problems: string[] }>;

/** The one 400 of invalid input: a message with the offending fields first, and `details` per field. */
export function invalidInput(details: FieldProblems): BadRequestException {
  const message = details.map((d) => `${d.field}: ${d.problems.join(', ')}`).join('; ');
  return new BadRequestException({ message: message || 'invalid input', details });
}

/** A 400 naming one field, for rules a DTO cannot check (they need stored state); same shape as the pipe's. */
export function invalidField(field: string, problem: string): BadRequestException {
  return invalidInput([{ field, problems: [problem] }]);
}

/**
 * The global pipe: strips nothing silently (unknown fields are a 400 naming them), transforms
 * payloads to their DTO classes, and words the error so the offending fields come first.
 * `forbidUnknownFields: false` drops unknown fields instead (VAST tags carry players' own parameters).
 */
export function createValidationPipe({ forbidUnknownFields = true }: { forbidUnknownFields?: boolean } = {}): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: forbidUnknownFields,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => invalidInput(flattenValidationErrors(errors)),
  });
}
