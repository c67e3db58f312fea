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
import { CampaignDto, CampaignListQueryDto, CampaignPageDto, CreateCampaignDto, UpdateCampaignDto } from '../dto/campaign.dto';
import { ActivationConflictDto } from '../dto/common.dto';
import { EtagInterceptor } from '../http/etag.interceptor';
import { CampaignsService } from '../services/campaigns.service';
import { IF_MATCH_HEADER } from './advertisers.controller';

@ApiTags('campaigns')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorBody })
@Auth('admin', 'advertiser')
@UseInterceptors(EtagInterceptor)
@Controller('v1/campaigns')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a campaign (in draft)' })
  @ApiCreatedResponse({ type: CampaignDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody, description: 'Unknown advertiser (or another tenant\'s)' })
  create(@Body() dto: CreateCampaignDto, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.create(dto, principal);
  }

  @Get()
  @ApiOperation({ summary: 'Campaigns, newest first, filtered by advertiserId and status' })
  @ApiOkResponse({ type: CampaignPageDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  list(@Query() query: CampaignListQueryDto, @CurrentPrincipal() principal: Principal): Promise<CampaignPageDto> {
    return this.campaigns.list(query, principal);
  }

  @Get(':id')
  @ApiOkResponse({ type: CampaignDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.get(id, principal);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change name, flight or budget; line items must still fit' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: CampaignDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody, description: 'Archived, or changed concurrently' })
  @ApiPreconditionFailedResponse({ type: ErrorBody })
  update(@Param('id') id: string, @Body() dto: UpdateCampaignDto, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.update(id, dto, ifMatch, principal);
  }

  @Post(':id/activate')
  @HttpCode(200)
  @ApiOperation({ summary: 'draft/paused -> active; 409 with reasons when it cannot run' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: CampaignDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ActivationConflictDto })
  activate(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.changeStatus(id, 'activate', ifMatch, principal);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'active -> paused' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: CampaignDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody })
  pause(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.changeStatus(id, 'pause', ifMatch, principal);
  }

  @Post(':id/archive')
  @HttpCode(200)
  @ApiOperation({ summary: 'Any state -> archived (final); stops delivery of all its line items' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: CampaignDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  archive(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.changeStatus(id, 'archive', ifMatch, principal);
  }
}
