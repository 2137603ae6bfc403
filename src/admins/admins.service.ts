import { ConflictException, Injectable, NotFoundException, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { normalizeEmail } from '../common/email';
import { isDuplicateKeyError } from '../common/mongo-errors';
import { StateCache } from '../state-cache/state-cache.service';
import { TENANT_NOT_FOUND } from '../tenancy/tenant';
import { Admin, Role } from './schemas/admin.schema';

interface NewOrganizationAdmin {
  id: Types.ObjectId;
  email: string;
  passwordHash: string;
  organizationId: Types.ObjectId;
}

/** New credentials, and the token version they were decided on: they apply only while it holds. */
export interface CredentialChange {
  email?: string;
  passwordHash?: string;
  tokenVersion: number;
}

const EMAIL_TAKEN = 'An admin with this email already exists';
const CREDENTIALS_CHANGED = 'The credentials changed meanwhile; read them again and retry';

const tokenStateKey = (id: Types.ObjectId | string) => `admin:${id.toString()}`;

@Injectable()
export class AdminsService implements OnModuleInit {
  constructor(
    @InjectModel(Admin.name) private readonly admins: Model<Admin>,
    private readonly cache: StateCache,
  ) {}

  /** The unique email index must exist before the first request can race another. */
  async onModuleInit(): Promise<void> {
    await this.admins.init();
  }

  async createOrganizationAdmin(admin: NewOrganizationAdmin): Promise<void> {
    await this.rethrowingDuplicateEmail(
      this.admins.create({
        _id: admin.id,
        email: admin.email,
        password_hash: admin.passwordHash,
        role: Role.Admin,
        organization_id: admin.organizationId,
      }),
    );
  }

  findByEmail(email: string) {
    return this.admins
      .findOne({ email: normalizeEmail(email) })
      .lean()
      .exec();
  }

  findById(id: Types.ObjectId | string) {
    return this.admins.findById(id).lean().exec();
  }

  /**
   * What an admin's tokens depend on: possibly as read up to TOKEN_STATE_TTL_MS ago, if another
   * instance changed it since (see StateCache).
   */
  findForToken(
    id: string,
  ): Promise<Pick<Admin, '_id' | 'email' | 'role' | 'organization_id' | 'token_version'> | null> {
    return this.cache.read(tokenStateKey(id), () =>
      this.admins.findById(id, { email: 1, role: 1, organization_id: 1, token_version: 1 }).lean().exec(),
    );
  }

  async emailsById(ids: Types.ObjectId[]): Promise<Map<string, string>> {
    const admins = await this.admins
      .find({ _id: { $in: ids } }, { email: 1 })
      .lean()
      .exec();
    return new Map(admins.map((admin) => [admin._id.toString(), admin.email]));
  }

  /** Refuses an email that belongs to another admin, before anything changes. */
  async assertEmailFree(email: string, adminId: Types.ObjectId): Promise<void> {
    if ((await this.admins.exists({ email: normalizeEmail(email), _id: { $ne: adminId } })) !== null) {
      throw new ConflictException(EMAIL_TAKEN);
    }
  }

  /**
   * One atomic update: the new credentials and the revocation of every older token, applied only if
   * no other change came first (the token version is the fence). `change` holds only what differs
   * from the stored credentials (the caller compares first); an empty one writes nothing and revokes
   * nothing. False when the version has moved on: another change, or this one applied already.
   */
  async changeCredentials(adminId: Types.ObjectId, change: CredentialChange): Promise<boolean> {
    const set = {
      ...(change.email !== undefined ? { email: normalizeEmail(change.email) } : {}),
      ...(change.passwordHash !== undefined ? { password_hash: change.passwordHash } : {}),
    };
    if (Object.keys(set).length === 0) {
      return true;
    }
    const { matchedCount } = await this.changing(adminId, () =>
      this.rethrowingDuplicateEmail(
        this.admins
          .updateOne({ _id: adminId, token_version: change.tokenVersion }, { $set: set, $inc: { token_version: 1 } })
          .exec(),
      ),
    );
    if (matchedCount === 0 && !(await this.admins.exists({ _id: adminId }))) {
      throw new NotFoundException(TENANT_NOT_FOUND);
    }
    return matchedCount === 1;
  }

  /** As `changeCredentials`, for a request: a change that came first is a 409. */
  async changeCredentialsNow(adminId: Types.ObjectId, change: CredentialChange): Promise<void> {
    if (!(await this.changeCredentials(adminId, change))) {
      throw new ConflictException(CREDENTIALS_CHANGED);
    }
  }

  /** Run once its organization is being deleted, which no longer adds admins to it. */
  async deleteByOrganization(organizationId: Types.ObjectId): Promise<void> {
    const admins = await this.admins.find({ organization_id: organizationId }, { _id: 1 }).lean().exec();
    await this.changing(
      admins.map(({ _id }) => _id),
      () => this.admins.deleteMany({ organization_id: organizationId }).exec(),
    );
  }

  /** Removes one organization admin by its id: what a rolled-back create takes back of its own. */
  async deleteOrganizationAdmin(adminId: Types.ObjectId, organizationId: Types.ObjectId): Promise<void> {
    await this.changing(adminId, () =>
      this.admins.deleteOne({ _id: adminId, role: Role.Admin, organization_id: organizationId }).exec(),
    );
  }

  /**
   * The organization ids that organization admins created since `since` (all, without it) name, a
   * batch of admins at a time (each batch read before it is handed out), for recovery's sweep of
   * admins left without an organization.
   */
  async *organizationIdsInBatches(since?: Date, batchSize = 1000): AsyncGenerator<Types.ObjectId[]> {
    const filter = { role: Role.Admin, ...(since ? { created_at: { $gte: since } } : {}) };
    const cursor = this.admins.find(filter, { organization_id: 1 }).lean().cursor({ batchSize });
    let batch = new Map<string, Types.ObjectId>();
    for await (const admin of cursor) {
      if (admin.organization_id) {
        batch.set(admin.organization_id.toString(), admin.organization_id);
      }
      if (batch.size === batchSize) {
        yield [...batch.values()];
        batch = new Map();
      }
    }
    if (batch.size > 0) {
      yield [...batch.values()];
    }
  }

  /** Removes the organization admins of these organizations, which no longer exist; how many went. */
  async deleteWithoutOrganization(missingOrganizationIds: Types.ObjectId[]): Promise<number> {
    const { deletedCount } = await this.changing(null, () =>
      this.admins.deleteMany({ role: Role.Admin, organization_id: { $in: missingOrganizationIds } }).exec(),
    );
    return deletedCount;
  }

  /** Removes every superadmin but the one of `email` (all of them without it); how many went. */
  async removeSuperadminsExcept(email: string | undefined): Promise<number> {
    const { deletedCount } = await this.changing(null, () =>
      this.admins
        .deleteMany({ role: Role.Superadmin, ...(email ? { email: { $ne: normalizeEmail(email) } } : {}) })
        .exec(),
    );
    return deletedCount;
  }

  /** Creates the superadmin, or brings its password up to date, keeping its id and so its tokens. */
  async upsertSuperadmin(email: string, passwordHash: string): Promise<void> {
    await this.changing(null, () =>
      this.admins
        .updateOne(
          { email: normalizeEmail(email) },
          {
            $set: { password_hash: passwordHash, role: Role.Superadmin, organization_id: null },
            $inc: { token_version: 1 },
          },
          { upsert: true },
        )
        .exec(),
    );
  }

  /**
   * A write to the admins of `adminIds` (null: to admins not known one by one), then their cached
   * copies dropped on every instance: also when the write failed, for it may still have been applied.
   */
  private async changing<T>(adminIds: Types.ObjectId | Types.ObjectId[] | null, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      if (adminIds) {
        this.cache.invalidate(...[adminIds].flat().map(tokenStateKey));
      } else {
        this.cache.invalidateAll();
      }
    }
  }

  private async rethrowingDuplicateEmail<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (error) {
      throw isDuplicateKeyError(error) ? new ConflictException(EMAIL_TAKEN) : error;
    }
  }
}
