import { Body, Controller, Get, Post, UnauthorizedException } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { Origin, type RequestOrigin } from '../common/decorators/request-origin.decorator';
import { envelope } from '../common/envelope';
import { LOGIN_LIMITED, LoginLimiter, tooManyAttempts } from '../throttling/login-limiter.service';
import { AuthService, WRONG_CREDENTIALS } from './auth.service';
import type { AuthenticatedAdmin } from './authenticated-admin';
import { Auth } from './decorators/auth.decorator';
import { CurrentAdmin } from './decorators/current-admin.decorator';
import { TokenRoute } from './decorators/token-route.decorator';
import { CurrentAdminEnvelopeDto } from './dto/current-admin.dto';
import { emailOf, LOGIN_EXAMPLES, LoginDto } from './dto/login.dto';
import { TokenResponseDto } from './dto/token-response.dto';

@ApiTags('Admin')
@Controller('admin')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly limiter: LoginLimiter,
  ) {}

  @Post('login')
  @TokenRoute({
    summary: "Log in as a superadmin or an organization's first admin, for a bearer token and a refresh token",
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({ type: LoginDto, examples: LOGIN_EXAMPLES })
  @ApiProblems(400, new UnauthorizedException(WRONG_CREDENTIALS), 413, 415, tooManyAttempts(60_000, LOGIN_LIMITED))
  login(@Body() body: LoginDto, @Origin() origin: RequestOrigin): Promise<TokenResponseDto> {
    const email = emailOf(body);
    return this.limiter.attempt(email, origin.ip, () => this.auth.loginAdmin(email, body.password, origin));
  }

  @Get('me')
  @Auth()
  @ApiOperation({ summary: 'The admin or member behind the token' })
  @ApiOkResponse({ type: CurrentAdminEnvelopeDto })
  me(@CurrentAdmin() admin: AuthenticatedAdmin): CurrentAdminEnvelopeDto {
    return envelope('Current admin retrieved', this.auth.describe(admin));
  }
}
