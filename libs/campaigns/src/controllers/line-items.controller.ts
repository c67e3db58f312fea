import { Auth, CurrentPrincipal, ErrorBody, Principal } from '@app/platform';
import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, UseInterceptors } from '@nestjs/common';
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
import { LineItemsService } from '../services/line-items.service';
import { IF_MATCH_HEADER } from './advertisers.controller';

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

  @Post(':id/activate')
  @HttpCode(200)
  @ApiOperation({ summary: 'draft/paused -> active; 409 with reasons (approved creative, budget, flight, campaign state)' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: LineItemDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ActivationConflictDto })
  activate(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.changeStatus(id, 'activate', ifMatch, principal);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'active -> paused' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: LineItemDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody })
  pause(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.changeStatus(id, 'pause', ifMatch, principal);
  }

  @Post(':id/archive')
  @HttpCode(200)
  @ApiOperation({ summary: 'Any state -> archived (final)' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: LineItemDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  archive(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<LineItemDto> {
    return this.lineItems.changeStatus(id, 'archive', ifMatch, principal);
  }
}
