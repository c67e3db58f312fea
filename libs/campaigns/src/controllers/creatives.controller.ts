import { ApiController, Auth, CurrentPrincipal, ErrorBody, Idempotent, ListEndpoint, Principal } from '@app/platform';
import { Body, Headers, HttpCode, Param, Post, Query, UseInterceptors } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { CreateCreativeDto, CreativeDto, CreativeListQueryDto, CreativePageDto, ReviewCreativeDto, UpdateCreativeDto } from '../dto/creative.dto';
import { ReadEndpoint, UpdateEndpoint } from '../http/endpoint.decorators';
import { EtagInterceptor } from '../http/etag.interceptor';
import { CreativesService } from '../services/creatives.service';
import { IF_MATCH_HEADER } from '../http/if-match';

@ApiController('v1/creatives', 'creatives')
@Auth('admin', 'advertiser')
@UseInterceptors(EtagInterceptor)
export class CreativesController {
  constructor(private readonly creatives: CreativesService) {}

  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Upload a creative by URL; it waits in pending_review until an admin approves it' })
  @ApiCreatedResponse({ type: CreativeDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody })
  create(@Body() dto: CreateCreativeDto, @CurrentPrincipal() principal: Principal): Promise<CreativeDto> {
    return this.creatives.create(dto, principal);
  }

  @ListEndpoint('Creatives, newest first, filtered by advertiserId, status and format', CreativePageDto)
  list(@Query() query: CreativeListQueryDto, @CurrentPrincipal() principal: Principal): Promise<CreativePageDto> {
    return this.creatives.list(query, principal);
  }

  @ReadEndpoint(CreativeDto)
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<CreativeDto> {
    return this.creatives.get(id, principal);
  }

  @UpdateEndpoint('Change a creative; a new media, click-through or companion URL sends it back to pending_review', CreativeDto)
  update(@Param('id') id: string, @Body() dto: UpdateCreativeDto, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<CreativeDto> {
    return this.creatives.update(id, dto, ifMatch, principal);
  }

  @Post(':id/review')
  @Auth('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve or reject a creative (admin)' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: CreativeDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiForbiddenResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody })
  review(@Param('id') id: string, @Body() dto: ReviewCreativeDto, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<CreativeDto> {
    return this.creatives.review(id, dto, ifMatch, principal);
  }
}
