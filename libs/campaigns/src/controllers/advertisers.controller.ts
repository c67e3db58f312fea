import { Auth, CurrentPrincipal, ErrorBody, Principal } from '@app/platform';
import { Body, Controller, Get, Headers, Param, Patch, Post, Query, UseInterceptors } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdvertiserDto, AdvertiserPageDto, CreateAdvertiserDto, UpdateAdvertiserDto } from '../dto/advertiser.dto';
import { ListQueryDto } from '../dto/common.dto';
import { EtagInterceptor } from '../http/etag.interceptor';
import { IF_MATCH_HEADER } from '../http/if-match';
import { AdvertisersService } from '../services/advertisers.service';

@ApiTags('advertisers')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorBody })
@Auth('admin', 'advertiser')
@UseInterceptors(EtagInterceptor)
@Controller('v1/advertisers')
export class AdvertisersController {
  constructor(private readonly advertisers: AdvertisersService) {}

  @Post()
  @Auth('admin')
  @ApiOperation({ summary: 'Create an advertiser (admin)' })
  @ApiCreatedResponse({ type: AdvertiserDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiForbiddenResponse({ type: ErrorBody })
  create(@Body() dto: CreateAdvertiserDto, @CurrentPrincipal() principal: Principal): Promise<AdvertiserDto> {
    return this.advertisers.create(dto, principal);
  }

  @Get()
  @ApiOperation({ summary: 'Advertisers, newest first (an advertiser key sees its own only)' })
  @ApiOkResponse({ type: AdvertiserPageDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  list(@Query() query: ListQueryDto, @CurrentPrincipal() principal: Principal): Promise<AdvertiserPageDto> {
    return this.advertisers.list(query, principal);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One advertiser' })
  @ApiOkResponse({ type: AdvertiserDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<AdvertiserDto> {
    return this.advertisers.get(id, principal);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change name, timezone, or currency (only while it has no campaign)' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: AdvertiserDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody })
  @ApiPreconditionFailedResponse({ type: ErrorBody })
  update(
    @Param('id') id: string,
    @Body() dto: UpdateAdvertiserDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AdvertiserDto> {
    return this.advertisers.update(id, dto, ifMatch, principal);
  }
}
