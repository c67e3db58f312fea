import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateNested, ValidationArguments, registerDecorator } from 'class-validator';
import { EVENT_TYPES, type EventType } from '../events/event-types';

/** Most beacons one POST /v1/events may carry. */
export const MAX_EVENTS_PER_REQUEST = 1000;

/** An ISO-8601 date-time string or an integer count of ms since the epoch, within a sane range. */
function IsEventTime(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isEventTime',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => parseEventTime(value) !== null,
        defaultMessage: (args: ValidationArguments) => `${args.property} must be an ISO-8601 date-time or an integer of ms since the epoch`,
      },
    });
}

export function parseEventTime(value: unknown): number | null {
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) ms = Date.parse(value);
  else return null;
  return Number.isSafeInteger(ms) && ms > 946684800000 && ms < 4102444800000 ? ms : null;
}

export class BeaconDto {
  @ApiProperty({ enum: EVENT_TYPES, example: 'impression', description: 'The event, as in the beacon URL /t/:event' })
  @IsIn(EVENT_TYPES)
  event: EventType;

  @ApiProperty({ example: 'Av__AZLxxI0ufBqaVT8bLD1OX___AZLxx...ByweY4A.3oL-omg9wtA9TmA7...', description: 'The `d` parameter of the beacon URL (signed tracking token)' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2048)
  token: string;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer' }],
    example: '2026-11-25T21:30:00.000Z',
    description: 'When it happened on the player (ISO-8601 or ms since epoch); clamped to [token issue time, now]. Default: now.',
  })
  @IsOptional()
  @IsEventTime()
  occurredAt?: string | number;
}

export class EventsBatchDto {
  @ApiProperty({ type: [BeaconDto], minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST, description: 'Beacons queued by a player, in the order they happened' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_EVENTS_PER_REQUEST)
  @ValidateNested({ each: true })
  @Type(() => BeaconDto)
  events: BeaconDto[];
}

export class EventResultDto {
  @ApiProperty({ enum: ['accepted', 'duplicate', 'invalid'], example: 'accepted', description: 'accepted: stored and counted; duplicate: already stored (counted once); invalid: stored as invalid traffic, never billed' })
  status: 'accepted' | 'duplicate' | 'invalid';

  @ApiPropertyOptional({
    enum: ['malformed', 'bad_signature', 'expired', 'bot', 'no_prior_impression', 'complete_before_start', 'rate_limit', 'ip_rate_limit'],
    example: 'bad_signature',
    description: 'Why the event is invalid traffic (only with status invalid)',
  })
  reason?: string;
}

export class EventsBatchResultDto {
  @ApiProperty({ type: [EventResultDto], description: 'One result per submitted event, in the same order' })
  results: EventResultDto[];
}
