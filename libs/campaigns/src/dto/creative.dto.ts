import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, ValidationArguments, registerDecorator } from 'class-validator';
import { CREATIVE_FORMATS, CREATIVE_STATUSES, CreativeFormat, CreativeStatus } from '../domain/enums';
import { IsHttpUrl, IsNotBlank, IsOptionalNotNull, IsPlainText } from '../validation/validators';
import { AuditedDto, EXAMPLE_ID, EXAMPLE_TIME, ListQueryDto, PageDto } from './common.dto';

/** Longest spot accepted, in seconds (audio and video; display time for display). */
export const MAX_DURATION_SECONDS = 120;

const MIME_FAMILY: Record<CreativeFormat, string> = { audio: 'audio', video: 'video', display: 'image' };

/** Whether `mimeType` is a well-formed type of the family that `format` plays (audio/*, video/*, image/*). */
export function mimeTypeFits(format: CreativeFormat, mimeType: string): boolean {
  return new RegExp(`^${MIME_FAMILY[format]}/[a-z0-9][a-z0-9.+-]*$`, 'i').test(mimeType);
}

/** mimeType must belong to the family of the `format` of the same body (when the format is given). */
function IsMimeTypeOfFormat() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isMimeTypeOfFormat',
      target: object.constructor,
      propertyName,
      options: { message: (args: ValidationArguments) => `mimeType must be a ${MIME_FAMILY[(args.object as { format: CreativeFormat }).format] ?? 'media'}/* type for this format` },
      validator: {
        validate: (value: unknown, args: ValidationArguments) => {
          if (typeof value !== 'string') return false;
          const format = (args.object as { format?: CreativeFormat }).format;
          return format && CREATIVE_FORMATS.includes(format) ? mimeTypeFits(format, value) : /^(audio|video|image)\/[a-z0-9][a-z0-9.+-]*$/i.test(value);
        },
      },
    });
}

export class CreateCreativeDto {
  @ApiProperty({ example: EXAMPLE_ID })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  advertiserId: string;

  @ApiProperty({ maxLength: 200, example: 'Summer spot 30s' })
  @IsString()
  @IsNotBlank()
  @MaxLength(200)
  @IsPlainText()
  name: string;

  @ApiProperty({ enum: CREATIVE_FORMATS, example: 'audio' })
  @IsIn(CREATIVE_FORMATS)
  format: CreativeFormat;

  @ApiProperty({ description: 'http(s) URL of the media file', maxLength: 2048, example: 'https://cdn.example.com/ads/summer-30.mp3' })
  @IsHttpUrl()
  @MaxLength(2048)
  mediaUrl: string;

  @ApiProperty({ description: 'audio/* for audio, video/* for video, image/* for display', example: 'audio/mpeg' })
  @IsString()
  @MaxLength(100)
  @IsMimeTypeOfFormat()
  mimeType: string;

  @ApiProperty({ minimum: 1, maximum: MAX_DURATION_SECONDS, example: 30 })
  @IsInt()
  @Min(1)
  @Max(MAX_DURATION_SECONDS)
  durationSeconds: number;

  @ApiProperty({ description: 'http(s) URL a click leads to', maxLength: 2048, example: 'https://example.com/summer' })
  @IsHttpUrl()
  @MaxLength(2048)
  clickThroughUrl: string;

  @ApiPropertyOptional({ type: String, description: 'http(s) URL of a companion banner shown while the ad plays', nullable: true, maxLength: 2048, example: 'https://cdn.example.com/ads/summer-640x640.png' })
  @IsOptional()
  @IsHttpUrl()
  @MaxLength(2048)
  companionImageUrl?: string | null;
}

/** The format cannot change (assignments depend on it); a new media, click-through or companion URL sends the creative back to review. */
export class UpdateCreativeDto {
  @ApiPropertyOptional({ maxLength: 200, example: 'Summer spot 30s v2' })
  @IsOptionalNotNull()
  @IsString()
  @IsNotBlank()
  @MaxLength(200)
  @IsPlainText()
  name?: string;

  @ApiPropertyOptional({ maxLength: 2048, example: 'https://cdn.example.com/ads/summer-30-v2.mp3' })
  @IsOptionalNotNull()
  @IsHttpUrl()
  @MaxLength(2048)
  mediaUrl?: string;

  @ApiPropertyOptional({ description: 'Must match the creative format', example: 'audio/aac' })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(100)
  @IsMimeTypeOfFormat()
  mimeType?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_DURATION_SECONDS, example: 15 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(MAX_DURATION_SECONDS)
  durationSeconds?: number;

  @ApiPropertyOptional({ maxLength: 2048, example: 'https://example.com/summer-sale' })
  @IsOptionalNotNull()
  @IsHttpUrl()
  @MaxLength(2048)
  clickThroughUrl?: string;

  @ApiPropertyOptional({ type: String, description: 'null removes it', nullable: true, maxLength: 2048, example: 'https://cdn.example.com/ads/summer-v2.png' })
  @IsOptional()
  @IsHttpUrl()
  @MaxLength(2048)
  companionImageUrl?: string | null;
}

export class ReviewCreativeDto {
  @ApiProperty({ enum: ['approved', 'rejected'], example: 'approved' })
  @IsIn(['approved', 'rejected'])
  decision: 'approved' | 'rejected';

  @ApiPropertyOptional({ maxLength: 1000, example: 'Loudness within -16 LUFS; approved' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @IsPlainText()
  note?: string;
}

export class CreativeListQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ example: EXAMPLE_ID })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  advertiserId?: string;

  @ApiPropertyOptional({ enum: CREATIVE_STATUSES, example: 'approved' })
  @IsOptional()
  @IsIn(CREATIVE_STATUSES)
  status?: CreativeStatus;

  @ApiPropertyOptional({ enum: CREATIVE_FORMATS, example: 'audio' })
  @IsOptional()
  @IsIn(CREATIVE_FORMATS)
  format?: CreativeFormat;
}

export class CreativeDto extends AuditedDto {
  @ApiProperty({ example: EXAMPLE_ID })
  id: string;

  @ApiProperty({ example: EXAMPLE_ID })
  advertiserId: string;

  @ApiProperty({ example: 'Summer spot 30s' })
  name: string;

  @ApiProperty({ enum: CREATIVE_FORMATS, example: 'audio' })
  format: CreativeFormat;

  @ApiProperty({ example: 'https://cdn.example.com/ads/summer-30.mp3' })
  mediaUrl: string;

  @ApiProperty({ example: 'audio/mpeg' })
  mimeType: string;

  @ApiProperty({ example: 30 })
  durationSeconds: number;

  @ApiProperty({ example: 'https://example.com/summer' })
  clickThroughUrl: string;

  @ApiProperty({ type: String, nullable: true, example: 'https://cdn.example.com/ads/summer-640x640.png' })
  companionImageUrl: string | null;

  @ApiProperty({ enum: CREATIVE_STATUSES, example: 'pending_review' })
  status: CreativeStatus;

  @ApiProperty({ type: String, nullable: true, example: null })
  reviewNote: string | null;

  @ApiProperty({ type: String, nullable: true, example: EXAMPLE_TIME })
  reviewedAt: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'admin' })
  reviewedBy: string | null;
}

export class CreativePageDto extends PageDto {
  @ApiProperty({ type: [CreativeDto] })
  data: CreativeDto[];
}
