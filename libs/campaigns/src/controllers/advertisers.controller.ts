import { ApiController, Auth, CurrentPrincipal, ErrorBody, Idempotent, ListEndpoint, Principal } from '@app/platform';
import { Body, Headers, Param, Post, Query, UseInterceptors } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiOperation } from '@nestjs/swagger';
import { AdvertiserDto, AdvertiserPageDto, CreateAdvertiserDto, UpdateAdvertiserDto } from '../dto/advertiser.dto';
import { ListQueryDto } from '../dto/common.dto';
import { ReadEndpoint, UpdateEndpoint } from '../http/endpoint.decorators';
import { EtagInterceptor } from '../http/etag.interceptor';
import { AdvertisersService } from '../services/advertisers.service';

@ApiController('v1/advertisers', 'advertisers')
@Auth('admin', 'advertiser')
@UseInterceptors(EtagInterceptor)
export class AdvertisersController {
  constructor(private readonly advertisers: AdvertisersService) {}

  @Post()
  @Idempotent()
  @Auth('admin')
  @ApiOperation({ summary: 'Create an advertiser (admin)' })
  @ApiCreatedResponse({ type: AdvertiserDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiForbiddenResponse({ type: ErrorBody })
  create(@Body() dto: CreateAdvertiserDto, @CurrentPrincipal() principal: Principal): Promise<AdvertiserDto> {
    return this.advertisers.create(dto, principal);
  }

  @ListEndpoint('Advertisers, newest first (an advertiser key sees its own only)', AdvertiserPageDto)
  list(@Query() query: ListQueryDto, @CurrentPrincipal() principal: Principal): Promise<AdvertiserPageDto> {
    return this.advertisers.list(query, principal);
  }

  @ReadEndpoint(AdvertiserDto, 'One advertiser')
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<AdvertiserDto> {
    return this.advertisers.get(id, principal);
  }

  @UpdateEndpoint('Change name, timezone, or currency (only while it has no campaign)', AdvertiserDto)
  update(
    @Param('id') id: string,
    @Body() dto: UpdateAdvertiserDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AdvertiserDto> {
    return this.advertisers.update(id, dto, ifMatch, principal);
  }
}
