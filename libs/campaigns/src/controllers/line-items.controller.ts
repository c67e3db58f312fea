import { Auth, CurrentPrincipal, ErrorBody, Principal } from '@app/platform';
import { Body, Controller, Get, Headers, Param, Patch, Post, Query, UseInterceptors } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ActivationConflictDto } from '../dto/common.dto';
import { CreateLineItemDto, LineItemDto, LineItemListQueryDto, LineItemPageDto, UpdateLineItemDto } from '../dto/line-item.dto';
import { EtagInterceptor } from '../http/etag.interceptor';
import { StatusChange } from '../http/status-change.decorator';
import { LineItemsService } from '../services/line-items.service';
import { IF_MATCH_HEADER } from '../http/if-match';

@ApiTags('line-items')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorBody })
@Auth('admin', 'advertiser')
@UseInterceptors(EtagInterceptor)
@Controller('v1/line-items')
export class LineItemsController {
  constructor(private readonly lineItems: LineItemsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a line item (in draft) with its targeting, caps and creatives' })
  @ApiCreatedResponse({ type: LineItemDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody, description: "Unknown campaign or creative (or another tenant's)" })
  @ApiConflictResponse({ type: ErrorBody, description: 'The campaign is archived or completed' })
  create(@Body() dto: CreateLineItemDto, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.create(dto, principal);
  }

  @Get()
  @ApiOperation({ summary: 'Line items, newest first, filtered by campaignId and status' })
  @ApiOkResponse({ type: LineItemPageDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  list(@Query() query: LineItemListQueryDto, @CurrentPrincipal() principal: Principal): Promise<LineItemPageDto> {
    return this.lineItems.list(query, principal);
  }

  @Get(':id')
  @ApiOkResponse({ type: LineItemDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.get(id, principal);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change any field; creativeIds replaces the assignment' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: LineItemDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody, description: 'Archived, or changed concurrently' })
  @ApiPreconditionFailedResponse({ type: ErrorBody })
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
