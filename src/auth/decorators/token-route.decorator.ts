import { applyDecorators, Header, HttpCode, HttpStatus } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiOperationOptions } from '@nestjs/swagger';
import { TokenResponseDto } from '../dto/token-response.dto';
import { Public } from './public.decorator';

/** An open route that answers a token response (RFC 6749 section 5.1): 200, never cached. */
export const TokenRoute = (operation: ApiOperationOptions): MethodDecorator =>
  applyDecorators(
    Public(),
    HttpCode(HttpStatus.OK),
    Header('Cache-Control', 'no-store'),
    ApiOperation(operation),
    ApiOkResponse({ type: TokenResponseDto }),
  );
