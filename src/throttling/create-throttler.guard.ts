import { applyDecorators, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { tooManyAttempts } from './login-limiter.service';

const CREATE_KIND = 'createKind';

/** What is created: each kind has limits of its own. */
export type CreateKind = 'organizations' | 'members';

const createsLimited = (kind: CreateKind): string => `Too many ${kind} created; retry later`;

/**
 * Limits creates of one kind per client address and in all, whichever path they come by (see
 * ThrottlingModule for the limits), and documents the 429.
 */
export const CreateLimited = (kind: CreateKind): MethodDecorator =>
  applyDecorators(
    SetMetadata(CREATE_KIND, kind),
    UseGuards(CreateThrottlerGuard),
    ApiProblems(tooManyAttempts(60_000, createsLimited(kind))),
  );

@Injectable()
export class CreateThrottlerGuard extends ThrottlerGuard {
  protected async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw tooManyAttempts(detail.timeToBlockExpire * 1000, createsLimited(this.kindOf(context)));
  }

  /** By the kind of create, not by route (the default): `/org/create` and `/api/v1/organizations` count together. */
  protected generateKey(context: ExecutionContext, suffix: string, name: string): string {
    const kind = this.kindOf(context);
    return createHash('sha256').update(`${kind}-${name}-${suffix}`).digest('hex');
  }

  private kindOf(context: ExecutionContext): CreateKind {
    return this.reflector.get<CreateKind>(CREATE_KIND, context.getHandler());
  }
}
