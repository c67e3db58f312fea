import { ApiController, Auth, CurrentPrincipal, ErrorBody, Idempotent, ListEndpoint, Principal } from '@app/platform';
import { Body, Headers, Param, Post, Query, UseInterceptors } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOperation } from '@nestjs/swagger';
import { ActivationConflictDto } from '../dto/common.dto';
import { CreateLineItemDto, LineItemDto, LineItemListQueryDto, LineItemPageDto, UpdateLineItemDto } from '../dto/line-item.dto';
import { ReadEndpoint, StatusChange, UpdateEndpoint } from '../http/endpoint.decorators';
import { EtagInterceptor } from '../http/etag.interceptor';
import { LineItemsService } from '../services/line-items.service';

@ApiController('v1/line-items', 'line-items')
@Auth('admin', 'advertiser')
@UseInterceptors(EtagInterceptor)
export class LineItemsController {
  constructor(private readonly lineItems: LineItemsService) {}

  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Create a line item (in draft) with its targeting, caps and creatives' })
  @ApiCreatedResponse({ type: LineItemDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody, description: "Unknown campaign or creative (or another tenant's)" })
  @ApiConflictResponse({ type: ErrorBody, description: 'The campaign is archived or completed' })
  create(@Body() dto: CreateLineItemDto, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.create(dto, principal);
  }

  @ListEndpoint('Line items, newest first, filtered by campaignId and status', LineItemPageDto)
  list(@Query() query: LineItemListQueryDto, @CurrentPrincipal() principal: Principal): Promise<LineItemPageDto> {
    return this.lineItems.list(query, principal);
  }

  @ReadEndpoint(LineItemDto)
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.get(id, principal);
  }

  @UpdateEndpoint('Change any field; creativeIds replaces the assignment', LineItemDto, 'Archived, or changed concurrently')
  update(@Param('id') id: string, @Body() dto: UpdateLineItemDto, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.update(id, dto, ifMatch, principal);
  }

  @StatusChange('activate', 'draft/paused -> active; 409 with reasons (approved creative, budget, flight, campaign state)', LineItemDto, ActivationConflictDto)
  activate(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.changeStatus(id, 'activate', ifMatch, principal);
  }

  @StatusChange('pause', 'active -> paused', LineItemDto)
  pause(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.changeStatus(id, 'pause', ifMatch, principal);
  }

  @StatusChange('archive', 'Any state -> archived (final)', LineItemDto, null)
  archive(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.changeStatus(id, 'archive', ifMatch, principal);
  }
}
