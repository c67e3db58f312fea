import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const TOKEN = 'Av__AZLxxI0ufBqaVT8bLD1OX___AZLxxAAAcACAAAAAAAAAAf__AZLxxAAAcACAAAAAAAAAAv__AZLxxAAAcACAAAAAAAAAA___AZLxxAAAcACAAAAAAAAABAAPbGlzdGVuZXItOGYzYTJjAEFDEtAAAAAAAAJVUwADaW9zaweY4A.3oL-omg9wtA9TmA7GNGCLn3_Ga5SCx9PSVQWCaoxLrE';
const url = (event: string) => `https://ads.example.com/t/${event}?d=${TOKEN}`;

/** Beacon URLs of one ad; each carries the same signed, expiring token. */
export class TrackingUrlsDto {
  @ApiProperty({ example: url('impression') }) impression: string;
  @ApiProperty({ example: url('start') }) start: string;
  @ApiProperty({ example: url('firstQuartile') }) firstQuartile: string;
  @ApiProperty({ example: url('midpoint') }) midpoint: string;
  @ApiProperty({ example: url('thirdQuartile') }) thirdQuartile: string;
  @ApiProperty({ example: url('complete') }) complete: string;
  @ApiProperty({ description: 'Answers 302 to the click-through URL', example: url('click') }) click: string;
}

export class DecisionDto {
  @ApiProperty({ description: 'Id of this ad decision (also in the tracking token and VAST AdServingId)', example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' })
  decisionId: string;

  @ApiProperty({ example: '0192f1c4-0000-7000-8000-00000000c001' })
  campaignId: string;

  @ApiProperty({ example: '0192f1c4-0000-7000-8000-00000000l001' })
  lineItemId: string;

  @ApiProperty({ example: '0192f1c4-0000-7000-8000-00000000c0de' })
  creativeId: string;

  @ApiProperty({ enum: ['audio', 'video', 'display'], example: 'audio' })
  format: string;

  @ApiProperty({ example: 'https://cdn.example.com/ads/summer-30s.mp3' })
  mediaUrl: string;

  @ApiProperty({ example: 'audio/mpeg' })
  mimeType: string;

  @ApiProperty({ example: 30 })
  durationSeconds: number;

  @ApiProperty({ description: 'Click tracking URL; redirects (302) to the advertiser click-through', example: url('click') })
  clickUrl: string;

  @ApiProperty({ type: TrackingUrlsDto })
  tracking: TrackingUrlsDto;
}

export class CandidateExplanationDto {
  @ApiProperty({ example: '0192f1c4-0000-7000-8000-00000000l002' })
  lineItemId: string;

  @ApiProperty({ example: '0192f1c4-0000-7000-8000-00000000c001' })
  campaignId: string;

  @ApiProperty({ description: 'Lower serves first', example: 8 })
  priority: number;

  @ApiProperty({ type: Number, nullable: true, description: 'Expected revenue of one impression in micros; null when filtered out before ranking', example: 2500 })
  expectedValueMicros: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Position in the ranking (1 = best); null when filtered out before ranking', example: 2 })
  rank: number | null;

  @ApiProperty({
    description:
      'selected, or why not: flight_not_started, flight_ended, no_creative_for_format, targeting_<field>, budget_exhausted, daily_budget_exhausted, campaign_budget_exhausted, frequency_capped, paced, outranked, counters_not_restored',
    example: 'frequency_capped',
  })
  reason: string;
}

export class DecisionResponseDto {
  @ApiProperty({ description: 'Id of the HTTP request (X-Request-Id)', example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e00' })
  requestId: string;

  @ApiProperty({ type: [DecisionDto], description: 'Empty when nothing is eligible (no fill)' })
  decisions: DecisionDto[];

  @ApiPropertyOptional({ type: [CandidateExplanationDto], description: 'With ?explain=true (admin only): every line item of the catalog and why it won or lost' })
  explanation?: CandidateExplanationDto[];
}
