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
import { CampaignDto, CampaignListQueryDto, CampaignPageDto, CreateCampaignDto, UpdateCampaignDto } from '../dto/campaign.dto';
import { ActivationConflictDto } from '../dto/common.dto';
import { EtagInterceptor } from '../http/etag.interceptor';
import { StatusChange } from '../http/status-change.decorator';
import { CampaignsService } from '../services/campaigns.service';
import { IF_MATCH_HEADER } from '../http/if-match';

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

  @StatusChange('activate', 'draft/paused -> active; 409 with reasons when it cannot run', CampaignDto, ActivationConflictDto)
  activate(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.changeStatus(id, 'activate', ifMatch, principal);
  }

  @StatusChange('pause', 'active -> paused', CampaignDto)
  pause(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.changeStatus(id, 'pause', ifMatch, principal);
  }

  @StatusChange('archive', 'Any state -> archived (final); stops delivery of all its line items', CampaignDto, null)
  archive(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.changeStatus(id, 'archive', ifMatch, principal);
  }
}
