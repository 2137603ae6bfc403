import { ExecutionContext, HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { normalizeEmail } from '../common/email';

/** Limits login attempts per client address and per email; see ThrottlingModule for the limits. */
@Injectable()
export class LoginThrottlerGuard extends ThrottlerGuard {
  protected async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new HttpException(
      { message: 'Too many login attempts; retry later', retryAfterSeconds: Math.max(1, detail.timeToBlockExpire) },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** The email a login names, from either body form; read before validation, so anything may be there. */
export function loginEmailOf(request: { body?: unknown }): string | undefined {
  const body = request.body as { email?: unknown; username?: unknown } | undefined;
  const email = body?.email ?? body?.username;
  return typeof email === 'string' && email.trim() !== '' ? normalizeEmail(email).slice(0, 254) : undefined;
}
