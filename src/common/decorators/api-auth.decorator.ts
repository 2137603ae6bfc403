import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiOAuth2 } from '@nestjs/swagger';

export const BEARER_SCHEME = 'bearer';
export const OAUTH2_SCHEME = 'oauth2';

/** Either a pasted bearer token or Swagger's OAuth2 password login opens the endpoint. */
export function ApiAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth(BEARER_SCHEME), ApiOAuth2([], OAUTH2_SCHEME));
}
