import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { tooManyAttempts } from './login-limiter.service';

export const CREATES_LIMITED = 'Too many organizations created; retry later';

/** Limits organization creates per client address and in all; see ThrottlingModule for the limits. */
@Injectable()
export class CreateThrottlerGuard extends ThrottlerGuard {
  protected async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw tooManyAttempts(detail.timeToBlockExpire * 1000, CREATES_LIMITED);
  }
}
