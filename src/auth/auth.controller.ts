import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { envelope } from '../common/envelope';
import { LoginThrottlerGuard } from '../throttling/login-throttler.guard';
import { AuthService } from './auth.service';
import type { AuthenticatedAdmin } from './authenticated-admin';
import { Auth } from './decorators/auth.decorator';
import { CurrentAdmin } from './decorators/current-admin.decorator';
import { Public } from './decorators/public.decorator';
import { CurrentAdminEnvelopeDto } from './dto/current-admin.dto';
import { LoginDto } from './dto/login.dto';
import { TokenResponseDto } from './dto/token-response.dto';

@ApiTags('Admin')
@Controller('admin')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @Public()
  @UseGuards(LoginThrottlerGuard)
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Log in as an admin and receive a bearer token' })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblems(400, 401, 413, 429)
  login(@Body() body: LoginDto): Promise<TokenResponseDto> {
    if (body.email !== undefined && body.username !== undefined) {
      throw new BadRequestException('Give either email or username, not both');
    }
    return this.auth.login((body.email ?? body.username) as string, body.password);
  }

  @Get('me')
  @Auth()
  @ApiOperation({ summary: 'The admin behind the token' })
  @ApiOkResponse({ type: CurrentAdminEnvelopeDto })
  me(@CurrentAdmin() admin: AuthenticatedAdmin): CurrentAdminEnvelopeDto {
    return envelope('Current admin retrieved', this.auth.describe(admin));
  }
}
