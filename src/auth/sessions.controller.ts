import { Body, Controller, HttpCode, HttpStatus, Post, UnauthorizedException, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { Origin, type RequestOrigin } from '../common/decorators/request-origin.decorator';
import { envelope } from '../common/envelope';
import { LOGIN_LIMITED, LoginLimiter, tooManyAttempts } from '../throttling/login-limiter.service';
import { AuthService, REFRESH_REFUSED, WRONG_CREDENTIALS } from './auth.service';
import { hashOf } from './refresh-tokens.service';
import type { AuthenticatedAdmin } from './authenticated-admin';
import { Auth } from './decorators/auth.decorator';
import { CurrentAdmin } from './decorators/current-admin.decorator';
import { Public } from './decorators/public.decorator';
import { TokenRoute } from './decorators/token-route.decorator';
import { emailOf } from './dto/login.dto';
import { PasswordChangedEnvelopeDto } from './dto/password-changed.dto';
import { ChangePasswordDto, RefreshTokenDto, SESSION_LOGIN_EXAMPLES, SessionLoginDto } from './dto/session.dto';
import { TokenResponseDto } from './dto/token-response.dto';

const TOO_MANY = tooManyAttempts(60_000, LOGIN_LIMITED);
/** Refresh attempts count against the client's address like logins, each token under a key of its own. */
const refreshLimitKey = (token: string): string => `refresh:${hashOf(token).slice(0, 32)}`;

/** Sessions of everyone who logs in, at /auth/... and /api/v1/auth/... alike. */
@ApiTags('Auth')
@Controller({ path: 'auth', version: [VERSION_NEUTRAL, '1'] })
export class SessionsController {
  constructor(
    private readonly auth: AuthService,
    private readonly limiter: LoginLimiter,
  ) {}

  @Post('login')
  @TokenRoute({
    summary: 'Log in as an organization member or admin (naming the organization), or as POST /admin/login',
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({ type: SessionLoginDto, examples: SESSION_LOGIN_EXAMPLES })
  @ApiProblems(400, new UnauthorizedException(WRONG_CREDENTIALS), 409, 413, 415, TOO_MANY)
  login(@Body() body: SessionLoginDto, @Origin() origin: RequestOrigin): Promise<TokenResponseDto> {
    const email = emailOf(body);
    return this.limiter.attempt(email, origin.ip, () =>
      this.auth.login(email, body.password, body.organization, origin),
    );
  }

  @Post('refresh')
  @TokenRoute({
    summary: 'Exchange a refresh token for a new pair',
    description: 'Each refresh token works once; presenting a used one revokes every token of its login.',
  })
  @ApiProblems(400, new UnauthorizedException(REFRESH_REFUSED), 409, 413, 415, TOO_MANY)
  refresh(@Body() body: RefreshTokenDto, @Origin() origin: RequestOrigin): Promise<TokenResponseDto> {
    return this.limiter.attempt(refreshLimitKey(body.refresh_token), origin.ip, () =>
      this.auth.refresh(body.refresh_token, origin),
    );
  }

  @Post('logout')
  @Public()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Revoke a refresh token and every token rotated from the same login',
    description: 'Answers 204 for an unknown or already revoked token too.',
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 413, 415)
  async logout(@Body() body: RefreshTokenDto): Promise<void> {
    await this.auth.logout(body.refresh_token);
  }

  @Post('password')
  @Auth()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Change your own password (the current one required)',
    description:
      'Every access and refresh token of yours stops working: log in again. The current password as the ' +
      'new one changes nothing. Wrong current passwords are limited as failed logins are (429).',
  })
  @ApiOkResponse({ type: PasswordChangedEnvelopeDto })
  @ApiProblems(400, 403, 409, 413, 415, TOO_MANY)
  async changePassword(
    @Body() body: ChangePasswordDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
    @Origin() origin: RequestOrigin,
  ): Promise<PasswordChangedEnvelopeDto> {
    // Counted as logins are: a stolen access token must not become a way to guess the password.
    await this.limiter.attempt(`password:${viewer.adminId}`, origin.ip, () =>
      this.auth.changePassword(viewer, body.current_password, body.new_password, origin),
    );
    return envelope('Password changed; log in again', { admin_id: viewer.adminId });
  }
}
