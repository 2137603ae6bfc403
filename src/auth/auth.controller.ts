import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Ip,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { envelope } from '../common/envelope';
import { LOGIN_LIMITED, LoginLimiter, tooManyAttempts } from '../throttling/login-limiter.service';
import { AuthService, WRONG_CREDENTIALS } from './auth.service';
import type { AuthenticatedAdmin } from './authenticated-admin';
import { Auth } from './decorators/auth.decorator';
import { CurrentAdmin } from './decorators/current-admin.decorator';
import { Public } from './decorators/public.decorator';
import { CurrentAdminEnvelopeDto } from './dto/current-admin.dto';
import { LOGIN_EXAMPLES, LoginDto } from './dto/login.dto';
import { TokenResponseDto } from './dto/token-response.dto';

@ApiTags('Admin')
@Controller('admin')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly limiter: LoginLimiter,
  ) {}

  @Post('login')
  @Public()
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Log in as an admin and receive a bearer token' })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({ type: LoginDto, examples: LOGIN_EXAMPLES })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblems(400, new UnauthorizedException(WRONG_CREDENTIALS), 413, 415, tooManyAttempts(60_000, LOGIN_LIMITED))
  login(@Body() body: LoginDto, @Ip() address: string): Promise<TokenResponseDto> {
    if (body.email !== undefined && body.username !== undefined) {
      throw new BadRequestException('Give either email or username, not both');
    }
    const email = (body.email ?? body.username) as string;
    return this.limiter.attempt(email, address, () => this.auth.login(email, body.password));
  }

  @Get('me')
  @Auth()
  @ApiOperation({ summary: 'The admin behind the token' })
  @ApiOkResponse({ type: CurrentAdminEnvelopeDto })
  me(@CurrentAdmin() admin: AuthenticatedAdmin): CurrentAdminEnvelopeDto {
    return envelope('Current admin retrieved', this.auth.describe(admin));
  }
}
