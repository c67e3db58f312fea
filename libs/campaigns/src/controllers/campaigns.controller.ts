import { ApiController, Auth, CurrentPrincipal, ErrorBody, Idempotent, ListEndpoint, Principal } from '@app/platform';
import { Body, Headers, Param, Post, Query, UseInterceptors } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOperation } from '@nestjs/swagger';
import { CampaignDto, CampaignListQueryDto, CampaignPageDto, CreateCampaignDto, UpdateCampaignDto } from '../dto/campaign.dto';
import { ActivationConflictDto } from '../dto/common.dto';
import { ReadEndpoint, StatusChange, UpdateEndpoint } from '../http/endpoint.decorators';
import { EtagInterceptor } from '../http/etag.interceptor';
import { CampaignsService } from '../services/campaigns.service';

@ApiController('v1/campaigns', 'campaigns')
@Auth('admin', 'advertiser')
@UseInterceptors(EtagInterceptor)
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Create a campaign (in draft)' })
  @ApiCreatedResponse({ type: CampaignDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody, description: 'Unknown advertiser (or another tenant\'s)' })
  create(@Body() dto: CreateCampaignDto, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.create(dto, principal);
  }

  @ListEndpoint('Campaigns, newest first, filtered by advertiserId and status', CampaignPageDto)
  list(@Query() query: CampaignListQueryDto, @CurrentPrincipal() principal: Principal): Promise<CampaignPageDto> {
    return this.campaigns.list(query, principal);
  }

  @ReadEndpoint(CampaignDto)
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<CampaignDto> {
    return this.campaigns.get(id, principal);
  }

  @UpdateEndpoint('Change name, flight or budget; line items must still fit', CampaignDto, 'Archived, or changed concurrently')
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
