import { ApiController, Auth, CurrentPrincipal, ErrorBody, Idempotent, Principal } from '@app/platform';
import { Body, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ApiKeyDto, ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto } from '../dto/api-key.dto';
import { ListQueryDto } from '../dto/common.dto';
import { AdvertiserApiKeysService } from '../services/advertiser-api-keys.service';

@ApiController('v1', 'api-keys')
@Auth('admin', 'advertiser')
export class ApiKeysController {
  constructor(private readonly keys: AdvertiserApiKeysService) {}

  @Post('advertisers/:id/api-keys')
  @Idempotent()
  @ApiOperation({
    summary: 'Issue an API key for the advertiser; the key is in this response only',
    description:
      "The admin may mint keys for any advertiser (they have no parent); an advertiser key only for its own advertiser, and the new key records it as parentKeyId: revoking a key revokes every key it minted, transitively.",
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody })
  create(@Param('id') advertiserId: string, @Body() dto: CreateApiKeyDto, @CurrentPrincipal() principal: Principal): Promise<CreatedApiKeyDto> {
    return this.keys.create(advertiserId, dto, principal);
  }

  @Get('advertisers/:id/api-keys')
  @ApiOperation({ summary: "The advertiser's API keys, newest first, without the secrets" })
  @ApiOkResponse({ type: ApiKeyPageDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  list(@Param('id') advertiserId: string, @Query() query: ListQueryDto, @CurrentPrincipal() principal: Principal): Promise<ApiKeyPageDto> {
    return this.keys.list(advertiserId, query, principal);
  }

  @Delete('api-keys/:id')
  @ApiOperation({ summary: 'Revoke an API key and every key it minted, transitively (idempotent); they stop working on every replica' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  revoke(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<ApiKeyDto> {
    return this.keys.revoke(id, principal);
  }
}
