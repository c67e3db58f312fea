/** Swagger description of the optional If-Match header of PATCH and status changes. */
export const IF_MATCH_HEADER = { name: 'If-Match', required: false, description: 'The ETag (W/"<version>") last read; 412 when it is stale', example: 'W/"1"' };
