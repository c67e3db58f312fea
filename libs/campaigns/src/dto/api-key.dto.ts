import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsNotBlank, IsPlainText } from '../validation/validators';
import { EXAMPLE_ID, EXAMPLE_TIME, PageDto } from './common.dto';

export class CreateApiKeyDto {
  @ApiPropertyOptional({ description: 'A label to recognise the key by', maxLength: 100, default: 'default', example: 'reporting dashboard' })
  @IsOptional()
  @IsString()
  @IsNotBlank()
  @MaxLength(100)
  @IsPlainText()
  name?: string;
}

export class ApiKeyDto {
  @ApiProperty({ example: EXAMPLE_ID })
  id: string;

  @ApiProperty({ example: EXAMPLE_ID })
  advertiserId: string;

  @ApiProperty({ example: 'reporting dashboard' })
  name: string;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'The advertiser key that minted this one (revoking it revokes this key too); null when the admin did' })
  parentKeyId: string | null;

  @ApiProperty({ description: 'First characters of the key, to recognise it', example: 'adp_Q2xhdWRl' })
  keyPrefix: string;

  @ApiProperty({ example: EXAMPLE_TIME })
  createdAt: string;

  @ApiProperty({ example: 'admin' })
  createdBy: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  revokedAt: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  revokedBy: string | null;
}

export class CreatedApiKeyDto {
  @ApiProperty({ example: EXAMPLE_ID })
  id: string;

  @ApiProperty({ example: EXAMPLE_ID })
  advertiserId: string;

  @ApiProperty({ example: 'reporting dashboard' })
  name: string;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'The advertiser key that minted this one (revoking it revokes this key too); null when the admin did' })
  parentKeyId: string | null;

  @ApiProperty({ example: 'adp_Q2xhdWRl' })
  keyPrefix: string;

  @ApiProperty({ example: EXAMPLE_TIME })
  createdAt: string;

  @ApiProperty({ description: 'The secret: shown in this response only, store it now', example: 'adp_Q2xhdWRlIGlzIGEgc2VjcmV0IGtleSBleGFtcGxlIQ' })
  key: string;
}

export class ApiKeyPageDto extends PageDto {
  @ApiProperty({ type: [ApiKeyDto] })
  data: ApiKeyDto[];
}
