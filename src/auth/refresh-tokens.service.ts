import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Environment } from '../config/environment';
import { AccessTokenClaims } from './authenticated-admin';
import { RefreshToken } from './schemas/refresh-token.schema';
import { RevokedFamily } from './schemas/revoked-family.schema';

/** What presenting a refresh token came to. */
export type Redemption =
  | {
      readonly status: 'valid';
      readonly claims: AccessTokenClaims;
      readonly family: string;
      /** Makes the token usable again, for a refresh that failed for a passing reason (a busy organization). */
      readonly giveBack: () => Promise<void>;
    }
  /** Used before: its family is revoked now. `claims` say whose it was, for the audit trail. */
  | { readonly status: 'reused'; readonly claims: AccessTokenClaims }
  | { readonly status: 'invalid' };

export const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');
/** How long a revoked family stays marked beyond a token's lifetime: longer than any refresh takes. */
const MARK_MARGIN_MS = 3_600_000;

function claimsOf(stored: RefreshToken): AccessTokenClaims {
  return { sub: stored.sub, org: stored.org, role: stored.role, ver: stored.ver, ...(stored.mem ? { mem: true } : {}) };
}

/** The one owner of the master database's `refresh_tokens` and `refresh_families_revoked`. */
@Injectable()
export class RefreshTokensService implements OnModuleInit {
  readonly ttlSeconds: number;

  constructor(
    @InjectModel(RefreshToken.name) private readonly tokens: Model<RefreshToken>,
    @InjectModel(RevokedFamily.name) private readonly revokedFamilies: Model<RevokedFamily>,
    config: ConfigService<Environment, true>,
  ) {
    this.ttlSeconds = config.get('REFRESH_TOKEN_TTL_SECONDS', { infer: true });
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.tokens.init(), this.revokedFamilies.init()]);
  }

  /** A new random token for these claims, of `family` (a new family when absent); only its hash is kept. */
  async issue(claims: AccessTokenClaims, family: string = randomUUID()): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.tokens.create({
      _id: hashOf(token),
      family,
      sub: claims.sub,
      org: claims.org,
      role: claims.role,
      ver: claims.ver,
      mem: claims.mem === true,
      expires_at: new Date(Date.now() + this.ttlSeconds * 1000),
    });
    return token;
  }

  /** Uses the token up, atomically: of two requests presenting it, one gets `valid`, the other `reused`. */
  async redeem(token: string): Promise<Redemption> {
    const id = hashOf(token);
    const now = new Date();
    const unused = await this.tokens
      .findOneAndUpdate({ _id: id, used_at: null, expires_at: { $gt: now } }, { $set: { used_at: now } })
      .lean()
      .exec();
    if (unused) {
      if (await this.revokedFamilies.exists({ _id: unused.family })) {
        return { status: 'invalid' };
      }
      const giveBack = async () => {
        await this.tokens.updateOne({ _id: id, used_at: now }, { $set: { used_at: null } }).exec();
      };
      return { status: 'valid', claims: claimsOf(unused), family: unused.family, giveBack };
    }
    const stored = await this.tokens.findById(id).lean().exec();
    if (stored?.used_at) {
      await this.revokeFamily(stored.family);
      return { status: 'reused', claims: claimsOf(stored) };
    }
    return { status: 'invalid' };
  }

  /** Revokes the family of the token, whatever its state; nothing when it is unknown. */
  async revokeFamilyOf(token: string): Promise<void> {
    const stored = await this.tokens.findById(hashOf(token), { family: 1 }).lean().exec();
    if (stored) {
      await this.revokeFamily(stored.family);
    }
  }

  /** Marked first, so that a token of the family issued meanwhile is refused when it is used. */
  private async revokeFamily(family: string): Promise<void> {
    const expiresAt = new Date(Date.now() + this.ttlSeconds * 1000 + MARK_MARGIN_MS);
    await this.revokedFamilies.updateOne({ _id: family }, { $set: { expires_at: expiresAt } }, { upsert: true }).exec();
    await this.tokens.deleteMany({ family }).exec();
  }
}
